import t from 'tap';
import type { Alert, IncidentWithDetails } from '../../src/incidents/model.js';
import type { TimelineEntry } from '../../src/incidents/timeline.js';
import { escapeMarkdown, renderReport } from '../../src/incidents/report.js';

// The report is Markdown that people paste into wikis and tickets: text from alerts, groupKeys,
// notes and reviews must stay text. These tests read the report the way a CommonMark/GFM renderer
// splits it: lines end at \n, \r\n or a lone \r; a table cell ends at a `|` that no backslash escapes.

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 22, 8, 0);
const SLA = { critical: 5 * MIN, high: 60 * MIN, medium: 4 * 60 * MIN, low: 24 * 60 * MIN, info: 7 * 24 * 60 * MIN };

function incident(over: Partial<IncidentWithDetails> = {}): IncidentWithDetails {
  return {
    id: 1,
    key: 'web/{}:{alertname="DatabaseDown"}',
    receiver: 'web',
    groupKey: '{}:{alertname="DatabaseDown"}',
    groupLabels: { alertname: 'DatabaseDown' },
    externalUrl: 'http://alertmanager:9093',
    source: 'alertmanager',
    title: 'DatabaseDown',
    severity: 'critical',
    rule: 'critical-by-name',
    team: null,
    status: 'open',
    openedAt: T0,
    respondBy: T0 + 5 * MIN,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    slaBreached: false,
    breachedAt: null,
    escalationStep: 0,
    reminders: 0,
    nextEscalationAt: null,
    alerts: [alertOf('DatabaseDown')],
    timeline: [
      {
        at: T0,
        actor: 'alertmanager',
        kind: 'opened',
        severity: 'critical',
        rule: 'critical-by-name',
        firing: 1,
        respondBy: T0 + 5 * MIN,
        slaMs: 5 * MIN,
      },
    ],
    ...over,
  };
}

function alertOf(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Alert {
  return {
    fingerprint: 'f1',
    status: 'firing',
    labels: { alertname: name, ...labels },
    annotations,
    startsAt: T0 - MIN,
    endsAt: null,
    generatorUrl: '',
    severity: 'critical',
    rule: 'critical-by-name',
  };
}

const note = (text: string, at = T0 + MIN): TimelineEntry => ({ at, actor: 'alice', kind: 'note', text });

/** The report's lines as a Markdown renderer sees them. */
const lines = (md: string) => md.split(/\r\n|\r|\n/);
/** The ATX headings (`#` … `######` then a space) and setext underlines (a line of `=` or `-` only). */
const headings = (md: string) => lines(md).filter((l) => /^ {0,3}#{1,6}(\s|$)/.test(l) || /^ {0,3}(=+|-+)\s*$/.test(l));
/** A table row's cells: split at each `|` that no backslash escapes (the outer pipes dropped). */
const cells = (row: string) =>
  row
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/);
/** Text outside code spans on each line (a code span shows `<` as text, so only the rest can carry raw HTML). */
const outsideCode = (md: string) => md.replace(/(?<![\\`])(`+)(?!`)[^\r\n]*?(?<!`)\1(?!`)/g, '');
const rawHtml = /(^|[^\\])<[A-Za-z/!?]/m;

const REPORT_HEADINGS = [
  '## Incident Report - 2026-11-23: DatabaseDown',
  '### Timeline',
  '### Alerts',
  '### Root Cause',
  '### Impact',
  '### Prevention',
];

t.test('a newline in the groupKey makes neither a heading nor raw HTML', async (t) => {
  const key = 'web/{}:{alertname="DatabaseDown"}\n## Owned\n<script>alert(1)</script>\r\n| x | y |';
  const md = renderReport(incident({ key }), SLA, T0);
  t.same(headings(md), REPORT_HEADINGS, 'no heading but the report’s own');
  t.notMatch(outsideCode(md), rawHtml, 'no raw HTML');
  t.notMatch(md, /[\r]/, 'no carriage return left');
  const row = lines(md).find((l) => l.startsWith('| Incident |'));
  t.equal(
    row,
    '| Incident | #1 (`web/{}:{alertname="DatabaseDown"} ## Owned <script>alert(1)</script> \\| x \\| y \\|`) |',
    'the whole key in one code span on one row',
  );
  t.equal(cells(row!).length, 2);
});

t.test('the common groupKey with a regex alternation stays in its table cell', async (t) => {
  const key = 'web/{}/{severity=~"critical|high"}:{alertname="DatabaseDown"}';
  const md = renderReport(incident({ key, rule: 'by|pipe' }), SLA, T0);
  const row = lines(md).find((l) => l.startsWith('| Incident |'))!;
  t.same(
    cells(row),
    [' Incident ', ' #1 (`web/{}/{severity=~"critical\\|high"}:{alertname="DatabaseDown"}`) '],
    'two cells: the key is whole',
  );
  t.same(cells(lines(md).find((l) => l.startsWith('| Severity |'))!), [' Severity ', ' Critical, chosen by rule `by\\|pipe` ']);
});

t.test('a backtick in the key cannot close the code span early', async (t) => {
  const md = renderReport(incident({ key: 'web/{a="x`y"}' }), SLA, T0);
  t.match(md, '| Incident | #1 (``web/{a="x`y"}``) |');
  t.equal(escapeMarkdown('`x`'), '\\`x\\`');
});

t.test('a lone carriage return in an alert name, a note, a checklist step or a review makes no heading', async (t) => {
  const md = renderReport(
    incident({
      title: 'Disk\r# Fake title',
      alerts: [alertOf('Disk\r# Fake\r===', { instance: 'a\rb' }, { summary: 'full\r---' })],
      timeline: [
        ...incident().timeline,
        note('looked\r## Injected\r---\r<img src=x onerror=alert(1)>'),
        { at: T0 + 2 * MIN, actor: 'bob\r# Actor', kind: 'checklist', step: 'Check\r### Step', state: 'done', note: 'ok\r===' },
        {
          at: T0 + 3 * MIN,
          actor: 'bob',
          kind: 'review',
          rootCause: 'line one\r# Fake Impact\r===\r```',
          impact: 'x\r\n---',
          prevention: '<script>alert(1)</script>\n> quoted',
        },
      ],
    }),
    SLA,
    T0 + 4 * MIN,
    [{ section: 'Steps\r# Section', steps: ['Check\r### Step'] }],
  );
  t.same(
    headings(md),
    [
      '## Incident Report - 2026-11-23: Disk # Fake title',
      '### Timeline',
      '### Alerts',
      '### Checklist',
      '#### Steps # Section',
      '### Root Cause',
      '### Impact',
      '### Prevention',
    ],
    'only the report’s own headings',
  );
  t.notMatch(md, /\r/, 'no carriage return left');
  t.notMatch(outsideCode(md), rawHtml, 'no raw HTML');
  t.notMatch(md, /^ {0,3}(```|~~~|>)/m, 'no fence and no quote starts a line');
  const alertRow = lines(md).find((l) => l.startsWith('| Disk'))!;
  t.equal(cells(alertRow).length, 6, 'the alert row keeps its six cells');
  t.match(md, '- [x] Check ### Step (bob # Actor, 2026-11-23 22:10:00 UTC): ok ===');
  t.match(md, '### Root Cause\nline one\n\\# Fake Impact\n\\===\n\\`\\`\\`\n', 'each review line stays a line, as text');
  t.match(md, '### Impact\nx\n\\---\n');
  t.match(md, '### Prevention\n\\<script>alert(1)\\</script>\n\\> quoted');
});

t.test('an ordinary report escapes nothing that is only text', async (t) => {
  const md = renderReport(
    incident({
      title: 'container_memory_working_set high (pod-1)',
      alerts: [
        alertOf(
          'KubeMemoryHigh',
          { metric: 'container_memory_working_set_bytes', pod: 'api-7d9f' },
          { summary: 'usage 5 * 3 GiB, > 90% (was < 80%) & rising!' },
        ),
      ],
      timeline: [...incident().timeline, note('acknowledged ~12 minutes after the page; see {runbook} #42, C:\\tmp and a_b+c-d=e')],
    }),
    SLA,
    T0,
  );
  t.match(md, '(5m SLA)');
  t.match(md, '## Incident Report - 2026-11-23: container_memory_working_set high (pod-1)\n');
  t.match(md, '| KubeMemoryHigh: usage 5 * 3 GiB, > 90% (was < 80%) & rising! | metric=container_memory_working_set_bytes, pod=api-7d9f |');
  t.match(md, ': acknowledged ~12 minutes after the page; see {runbook} #42, C:\\tmp and a_b+c-d=e\n');
  t.notMatch(md, /\\[()~_{}#+!>-]/, 'no needless backslash');
});

t.test('what would start markup is escaped, and only that', async (t) => {
  const cases: [string, string][] = [
    // Emphasis needs a closing delimiter: every run that can close is escaped, and an opener
    // only where a closer of its kind follows (so `~12` or `5 * 3` stay as they are).
    ['*bold* and **strong**', '\\*bold\\* and \\*\\*strong\\*\\*'],
    ['_em_ but snake_case', '\\_em\\_ but snake_case'],
    ['~~gone~~ and ~x~', '\\~\\~gone\\~\\~ and \\~x\\~'],
    ['a*b', 'a\\*b'],
    ['5 * 3, ~12 min, x_', '5 * 3, ~12 min, x\\_'],
    // A link needs `](`; its `[` is escaped with it.
    ['[click](http://evil) ![img](x.png) pod[0]', '\\[click\\](http://evil) !\\[img\\](x.png) pod[0]'],
    ['`code`', '\\`code\\`'],
    ['<b>x</b> <!-- c --> <http://x> a < b', '\\<b>x\\</b> \\<!-- c --> \\<http://x> a < b'],
    ['&amp; &#60; &#x3c; but AT&T', '\\&amp; \\&#60; \\&#x3c; but AT&T'],
    // A backslash before punctuation, or at the end (before whatever the report puts next).
    ['a\\*b and C:\\tmp and end\\', 'a\\\\*b and C:\\tmp and end\\\\'],
    ['a | b', 'a \\| b'],
    ['one\ntwo\rthree\r\nfour', 'one two three four'],
  ];
  for (const [text, want] of cases) t.equal(escapeMarkdown(text), want, JSON.stringify(text));
});

t.test('bidirectional controls in the report are shown, not obeyed', async (t) => {
  const { renderReport } = await import('../../src/incidents/report.js');
  const { shippedConfig, T0 } = await import('../helpers.js');
  const incident = {
    id: 7,
    key: 'k',
    receiver: 'r',
    groupKey: 'g',
    groupLabels: {},
    externalUrl: '',
    source: 'alertmanager' as const,
    title: 'host\u202Egnp.exe down',
    severity: 'high' as const,
    rule: 'x',
    status: 'open' as const,
    openedAt: T0,
    respondBy: T0 + 3_600_000,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    slaBreached: false,
    breachedAt: null,
    escalationStep: 0,
    reminders: 0,
    nextEscalationAt: null,
    team: null,
    alerts: [],
    timeline: [],
  };
  const text = renderReport(incident, shippedConfig.sla, T0);
  t.notOk(/[\u202A-\u202E\u2066-\u2069]/.test(text));
  t.match(text, 'host[U+202E]gnp.exe down');
});
