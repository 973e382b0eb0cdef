import { showBidiControls } from '../well-formed.js';
import { formatDuration } from './duration.js';
import type { Alert, Incident, IncidentWithDetails } from './model.js';
import type { EntryOf, TimelineEntry, TimelineKind } from './timeline.js';
import { STATE_LABEL, STATUS_LABEL } from './status-page.js';
import { describeEntry } from './timeline-text.js';
import type { SlaPolicy } from './incident-machine.js';
import { checklistStatus, latestReview, type ChecklistSection, type Review, type StepStatus } from './checklist.js';

/** Beyond these, the report summarises (issue 19: a report of 120,000 alerts was 15.6 MB): the first and the last entries, the first alerts. */
export const REPORT_LIMITS = { timelineFirst: 50, timelineLast: 150, alerts: 100, alertNames: 20, publicUpdates: 100 } as const;

/**
 * What a report is made from, each part bounded: the timeline's first and last entries with how
 * many were left out between them, the first alerts with their counts and most frequent names, the
 * checklist's marks and the latest review. A store fills it with bounded reads (service/report-reads.ts).
 */
export interface ReportInput {
  incident: Incident & { id: number };
  timeline: { first: TimelineEntry[]; omitted: number; last: TimelineEntry[] };
  alerts: {
    /** The first alerts by start, at most REPORT_LIMITS.alerts. */
    shown: Alert[];
    count: number;
    firing: number;
    /** When Prometheus first saw a problem: the earliest positive start; null when no alert has one. */
    earliestStart: number | null;
    /** The most frequent alertnames, most frequent first. */
    byName: { alertname: string; count: number; firing: number }[];
  };
  steps: ReadonlyMap<string, StepStatus>;
  review: (Review & { actor: string; at: number }) | null;
  /** The updates posted to the status page, oldest first (at most REPORT_LIMITS.publicUpdates, the newest). */
  publicUpdates?: EntryOf<'status_update'>[];
}

/** The report's input from a whole incident, summarised as the store's bounded reads would (tests, small incidents). */
export function reportInputOf(i: IncidentWithDetails): ReportInput {
  const { timelineFirst, timelineLast, alerts: shown, alertNames } = REPORT_LIMITS;
  const long = i.timeline.length > timelineFirst + timelineLast;
  const names = new Map<string, { alertname: string; count: number; firing: number }>();
  for (const a of i.alerts) {
    const alertname = a.labels['alertname'] ?? a.fingerprint;
    const n = names.get(alertname) ?? { alertname, count: 0, firing: 0 };
    n.count += 1;
    if (a.status === 'firing') n.firing += 1;
    names.set(alertname, n);
  }
  const starts = i.alerts.map((a) => a.startsAt).filter((s) => s > 0);
  return {
    incident: i as Incident & { id: number },
    timeline: long
      ? {
          first: i.timeline.slice(0, timelineFirst),
          omitted: i.timeline.length - timelineFirst - timelineLast,
          last: i.timeline.slice(-timelineLast),
        }
      : { first: i.timeline, omitted: 0, last: [] },
    alerts: {
      shown: i.alerts.slice(0, shown),
      count: i.alerts.length,
      firing: i.alerts.filter((a) => a.status === 'firing').length,
      earliestStart: starts.length ? Math.min(...starts) : null,
      byName: [...names.values()].sort((a, b) => b.count - a.count || (a.alertname < b.alertname ? -1 : 1)).slice(0, alertNames),
    },
    steps: checklistStatus(i.timeline),
    review: latestReview(i.timeline),
    publicUpdates: i.timeline.filter((e): e is EntryOf<'status_update'> => e.kind === 'status_update').slice(-REPORT_LIMITS.publicUpdates),
  };
}

// The plan's report headings ("DOCUMENT" step) name each step of the response.
const STEP: Record<TimelineKind, string> = {
  opened: 'Detection',
  alert_firing: 'Alert firing',
  alert_resolved: 'Alert resolved',
  alerts_changed: 'Alerts changed',
  severity_raised: 'Escalation',
  sla_breached: 'SLA missed',
  acknowledged: 'Response',
  resolved: 'Resolution',
  alerts_truncated: 'Note',
  escalated: 'Escalation',
  reminder: 'Reminder',
  paged: 'Alerting',
  page_failed: 'Alerting failed',
  page_retrying: 'Alerting retry',
  unpaged: 'Alerting failed',
  phone: 'Phone',
  note: 'Note',
  checklist: 'Checklist',
  review: 'Review',
  silenced: 'Silence',
  silence_expired: 'Silence',
  silence_ending: 'Silence',
  status_update: 'Status page',
};

const when = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);
const title = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

// Escaping. Text from alerts, groupKeys, notes and reviews must stay text in the report, and the
// report must stay readable: a backslash goes only where CommonMark/GFM would otherwise start
// markup in that place, so `(5m SLA)`, `~12 minutes` and `container_memory_working_set` are left as
// they are. Everywhere: a line ending (\n, \r\n or a lone \r) becomes a space, and `|` is escaped so
// no text can end a table cell.

const LINE_END = /\r\n|\r|\n/g;
/** Outside the text (undefined) counts as punctuation: each call site puts a space or punctuation there. */
const isSpace = (c: string | undefined) => c !== undefined && /[\t\n\f\r\p{Zs}]/u.test(c);
const isPunct = (c: string | undefined) => c === undefined || /[\p{P}\p{S}]/u.test(c);
const ASCII_PUNCT = /[!-/:-@[-`{-~]/;
const ENTITY = /^&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/;

/**
 * Escapes text placed inside a line of the report (a heading, a table cell, a list item), after a
 * space or punctuation. `force` names code points to escape whatever else holds (block markup).
 *
 * Emphasis (`*`, `_`) and strikethrough (`~`) need a closing delimiter run, so every run that can
 * close is escaped, which alone makes them impossible, and an opening run is escaped too when a
 * closer of its kind follows, for symmetry; a run that can do neither (`snake_case`, `5 * 3`,
 * `~12 minutes`) is left alone. A link needs `](`. HTML needs `<` before a letter, `/`, `!` or `?`.
 */
export function escapeMarkdown(text: string, force: ReadonlySet<number> = new Set()): string {
  const c = [...text.replace(LINE_END, ' ')];
  const esc = c.map((_, i) => force.has(i));
  const runs: { ch: string; from: number; to: number; open: boolean; close: boolean }[] = [];
  for (let i = 0; i < c.length;) {
    const ch = c[i]!;
    let j = i + 1;
    if (ch === '*' || ch === '_' || ch === '~') {
      while (c[j] === ch) j++;
      const before = c[i - 1];
      const after = c[j];
      const left = !isSpace(after) && (!isPunct(after) || isSpace(before) || isPunct(before));
      const right = !isSpace(before) && (!isPunct(before) || isSpace(after) || isPunct(after));
      const underscore = ch === '_';
      runs.push({
        ch,
        from: i,
        to: j,
        open: left && (!underscore || !right || isPunct(before)),
        close: right && (!underscore || !left || isPunct(after)),
      });
    } else if (ch === '`' || ch === '|') esc[i] = true;
    else if (ch === '\\') esc[i] ||= c[i + 1] === undefined || ASCII_PUNCT.test(c[i + 1]!);
    else if (ch === '<') esc[i] ||= /[A-Za-z/!?]/.test(c[i + 1] ?? '');
    else if (ch === '&') esc[i] ||= ENTITY.test(c.slice(i, i + 40).join(''));
    else if (ch === ']' && (c[i + 1] === '(' || c[i + 1] === '[')) {
      esc[i] = true;
      const open = c.lastIndexOf('[', i);
      if (open >= 0) esc[open] = true;
    }
    i = j;
  }
  const mark = (r: (typeof runs)[number]) => {
    for (let k = r.from; k < r.to; k++) esc[k] = true;
  };
  for (const [n, r] of runs.entries()) {
    if (r.close || force.has(r.from)) mark(r);
    else if (r.open && runs.some((later, m) => m > n && later.ch === r.ch && later.close)) mark(r);
  }
  return c.map((ch, i) => (esc[i] ? `\\${ch}` : ch)).join('');
}

/** Text ending a heading: a last run of `#` after a space would be taken for the closing sequence. */
function escapeHeading(text: string): string {
  const flat = text.replace(LINE_END, ' ');
  const closing = /(^|[ \t])#+[ \t]*$/.exec(flat);
  return escapeMarkdown(flat, closing ? new Set([[...flat.slice(0, closing.index + closing[1]!.length)].length]) : undefined);
}

/**
 * One line of a review field, at the start of a line of the report. The team's lists stay lists
 * (`- `, `* `, `+ `, `1. ` with text after them); what else would start a block is escaped: a
 * heading, a quote, a fence, a thematic break or setext underline, a link definition.
 */
export function escapeMarkdownLine(line: string): string {
  const lead = /^[ \t]*/.exec(line)![0];
  const s = line.slice(lead.length);
  const item = /^(?:[-*+]|\d{1,9}[.)])[ \t]+(?=\S)/.exec(s);
  const thematic = /^([-*_])(?:[ \t]*\1){2,}[ \t]*$/.test(s);
  if (item && !thematic) return lead + item[0] + escapeMarkdownLine(s.slice(item[0].length));
  const force = new Set<number>();
  if (thematic || /^(?:=+|-+)[ \t]*$/.test(s) || /^(?:#{1,6}(?:[ \t]|$)|>|~~~|\[|[-*+](?:[ \t]|$))/.test(s)) force.add(0);
  const ordered = /^(\d{1,9})[.)](?:[ \t]|$)/.exec(s);
  if (ordered) force.add(ordered[1]!.length);
  return lead + escapeMarkdown(s, force);
}

/** The lines of a review field: each one a line of the report; no indentation that would make a code block. */
function escapeBlock(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(LINE_END)) {
    const prev = out.at(-1);
    // After a heading or a blank line, four spaces would start an indented code block.
    const line = prev === undefined || prev.trim() === '' ? raw.trimStart() : raw;
    out.push(line.trim() === '' ? '' : escapeMarkdownLine(line));
  }
  return out;
}

/**
 * A code span that shows `text` exactly: its fence is longer than any run of backticks inside, a
 * line ending becomes a space, and `|` is escaped (GFM takes `\|` as `|` in a table cell, code
 * spans included).
 */
function code(text: string): string {
  const flat = text.replace(LINE_END, ' ').replace(/\|/g, '\\|');
  const fence = '`'.repeat(Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length)) + 1);
  const pad = /^`|`$/.test(flat) || (/^ .* $/.test(flat) && flat.trim() !== '') || flat === '' ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/**
 * The plan's incident report as Markdown, built only from the incident's own history: the
 * timeline, the severity and the rule that chose it, whether the deadline was kept, the times to
 * acknowledge and resolve, the alerts, and headings for the team to fill in.
 */
export function renderReport(
  source: IncidentWithDetails | ReportInput,
  sla: SlaPolicy,
  now: number,
  checklist: ChecklistSection[] = [],
): string {
  const input =
    'timeline' in source && Array.isArray(source.timeline) ? reportInputOf(source as IncidentWithDetails) : (source as ReportInput);
  const i = input.incident;
  const detected = detectedAt(i, input.alerts.earliestStart);
  const out: string[] = [];
  out.push(`## Incident Report - ${when(i.openedAt).slice(0, 10)}: ${escapeHeading(i.title)}`, '');
  out.push('| | |', '|---|---|');
  out.push(`| Incident | #${i.id} (${code(i.key)}) |`);
  out.push(`| Severity | ${title(i.severity)}, chosen by rule ${code(i.rule)} |`);
  if (i.team !== null) out.push(`| Team | ${escapeMarkdown(i.team)} |`);
  out.push(`| Status | ${i.status} |`);
  out.push(`| Detected | ${when(detected)} (first alert started; received ${when(i.openedAt)}) |`);
  out.push(`| Response deadline | ${when(i.respondBy)} (${formatDuration(sla[i.severity])} for ${i.severity}): ${slaVerdict(i, now)} |`);
  out.push(
    `| Acknowledged | ${i.acknowledgedAt === null ? 'not yet' : `${when(i.acknowledgedAt)} by ${escapeMarkdown(i.acknowledgedBy ?? 'unknown')}, ${formatDuration(i.acknowledgedAt - detected)} after detection`} |`,
  );
  out.push(
    `| Resolved | ${i.resolvedAt === null ? 'not yet' : `${when(i.resolvedAt)} by ${escapeMarkdown(i.resolvedBy ?? 'unknown')}, ${formatDuration(i.resolvedAt - detected)} after detection`} |`,
  );
  out.push('');

  out.push('### Timeline');
  let day = '';
  const entry = (t: TimelineEntry) => {
    const d = when(t.at).slice(0, 10);
    // Times alone read best; the date is repeated only when the incident crosses midnight.
    const stamp = d === day ? clock(t.at) : `${d} ${clock(t.at)}`;
    day = d;
    out.push(`- ${stamp} - ${STEP[t.kind]}: ${escapeMarkdown(describeEntry(t))}`);
  };
  input.timeline.first.forEach(entry);
  if (input.timeline.omitted > 0) {
    out.push(`- … ${count(input.timeline.omitted)} entries omitted (GET /api/incidents/${i.id}/timeline has them all) …`);
    day = '';
  }
  input.timeline.last.forEach(entry);
  out.push('');

  out.push('### Alerts');
  const { alerts } = input;
  if (alerts.count > alerts.shown.length) {
    out.push(
      `${count(alerts.count)} alerts, ${count(alerts.firing)} firing. By name${alerts.byName.reduce((sum, n) => sum + n.count, 0) < alerts.count ? ' (the most frequent)' : ''}:`,
      '',
      '| Alert | Alerts | Firing |',
      '|---|---|---|',
      ...alerts.byName.map((n) => `| ${escapeMarkdown(n.alertname)} | ${count(n.count)} | ${count(n.firing)} |`),
      '',
      `The first ${alerts.shown.length} by start (GET /api/incidents/${i.id} pages them all):`,
      '',
    );
  }
  out.push('| Alert | Labels | Severity (rule) | Status | Started | Ended |', '|---|---|---|---|---|---|');
  for (const a of alerts.shown) {
    const labels = Object.entries(a.labels)
      .filter(([k]) => k !== 'alertname')
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    const summary = a.annotations['summary'] ? `: ${a.annotations['summary']}` : '';
    out.push(
      `| ${escapeMarkdown((a.labels['alertname'] ?? a.fingerprint) + summary)} | ${escapeMarkdown(labels)} | ${a.severity} (${escapeMarkdown(a.rule)}) | ${a.status} | ${when(a.startsAt)} | ${
        a.endsAt === null ? '' : when(a.endsAt)
      } |`,
    );
  }
  out.push('');

  if (checklist.length) {
    // The Verification Log: each step as it stands, who marked it and when, ⚠️ with the problem.
    const status = input.steps;
    out.push('### Checklist');
    for (const section of checklist) {
      out.push(`#### ${escapeHeading(section.section)}`);
      for (const step of section.steps) {
        const st = status.get(step);
        const by =
          st && st.state !== 'undone'
            ? ` (${escapeMarkdown(st.actor)}, ${when(st.at)})${st.note ? `: ${escapeMarkdown(st.note)}` : ''}`
            : '';
        out.push(
          st?.state === 'problem'
            ? `- ⚠️ ${escapeMarkdown(step)}${by}`
            : `- [${st?.state === 'done' ? 'x' : ' '}] ${escapeMarkdown(step)}${by}`,
        );
      }
    }
    out.push('');
  }

  // What users were told, word for word: the plan's "Status page updated" and "Users notified".
  const updates = input.publicUpdates ?? [];
  if (updates.length) {
    out.push('### Public updates');
    for (const u of updates) {
      const parts = u.components.map((c) => `${c.id}: ${STATUS_LABEL[c.status]}`).join(', ');
      out.push(
        `- ${when(u.at)} - **${STATE_LABEL[u.state]}** (${escapeMarkdown(u.actor)}): ${escapeMarkdown(u.title)}: ${escapeMarkdown(u.message)}${
          parts ? ` (${escapeMarkdown(parts)})` : ''
        }${u.subscribers ? `; e-mailed to ${count(u.subscribers)} subscriber(s)` : ''}`,
      );
    }
    out.push('');
  }

  // The post-incident fields as the team last saved them; the plan's placeholders until then.
  const review = input.review;
  const block = (text: string | undefined, placeholder: string[]) => (text ? escapeBlock(text) : placeholder);
  out.push('### Root Cause', ...block(review?.rootCause, ['[Describe what happened]']), '');
  out.push('### Impact', ...block(review?.impact, ['- X users affected', '- Y data records accessed', '- Z hours of downtime']), '');
  out.push('### Prevention', ...block(review?.prevention, ['[What changed to prevent recurrence]']), '');
  // Plain text: bidirectional controls from labels and notes are shown, not obeyed.
  return showBidiControls(out.join('\n'));
}

/** When the problem was detected: the earliest alert's start (Prometheus saw it then), never after the incident opened. */
export function detectedAt(i: Incident, earliestStart: number | null): number {
  return earliestStart !== null && earliestStart < i.openedAt ? earliestStart : i.openedAt;
}

/** A count with thousands separators, as the report's prose shows it. */
const count = (n: number) => n.toLocaleString('en-US');

function slaVerdict(i: Incident, now: number): string {
  if (i.slaBreached) return '**missed**';
  if (i.acknowledgedAt !== null) return 'kept';
  if (i.status === 'resolved') return 'kept (resolved before the deadline)';
  return now < i.respondBy ? 'pending' : '**missed**';
}
