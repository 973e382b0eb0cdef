import t from 'tap';
import { parseMatcher } from '../../src/classify/matcher.js';
import { toLabels } from '../../src/classify/labels.js';

const labels = toLabels({ alertname: 'DatabaseDown', severity: 'critical', instance: 'db:5432', empty: '' });

t.test('matches like Alertmanager', async (t) => {
  const table: [string, boolean][] = [
    ['alertname="DatabaseDown"', true],
    ['alertname=DatabaseDown', true],
    ['alertname = "DatabaseDown"', true],
    ['alertname="Database"', false],
    ['alertname!="DatabaseDown"', false],
    ['alertname!="Other"', true],
    ['alertname=~"Database.*"', true],
    // Anchored: a partial match is no match.
    ['alertname=~"Database"', false],
    ['alertname=~"Down"', false],
    ['alertname=~".*Down"', true],
    ['alertname=~"a|DatabaseDown"', true],
    ['alertname!~"Database.*"', false],
    ['alertname!~"Web.*"', true],
    ['severity=~"(?i)CRITICAL"', true],
    ['severity=~"CRITICAL"', false],
    // A missing label is the empty string.
    ['missing=""', true],
    ['missing!=""', false],
    ['missing=~".*"', true],
    ['missing=~".+"', false],
    ['empty=""', true],
    ['instance="db:5432"', true],
    ['instance=~"db:[0-9]+"', true],
    ['weird="a\\"b"', false],
    // RE2 syntax and semantics, as Go's regexp reads them.
    ['alertname=~"database(?i)DOWN"', false],
    ['alertname=~"Database(?i)DOWN"', true],
    ['alertname=~\\pLatabaseDown', true],
    ['alertname=~\\pN+', false],
    ['instance=~"db:[[:digit:]]+"', true],
  ];
  for (const [text, want] of table) t.equal(parseMatcher(text).matches(labels), want, text);
});

t.test('unquotes escapes', async (t) => {
  t.equal(parseMatcher('a="x\\"y"').value, 'x"y');
  t.equal(parseMatcher('a="x\\\\y"').value, 'x\\y');
  t.equal(parseMatcher('a="x\\ny"').value, 'x\ny');
  t.equal(parseMatcher('a=""').value, '');
});

t.test('rejects what Alertmanager rejects, with the matcher in the message', async (t) => {
  for (const bad of ['alertname', '="x"', '1abc="x"', 'a=="x"x', 'a="unterminated', 'a=~"("', 'a="x\\qy"', 'a="x"y"']) {
    t.throws(() => parseMatcher(bad), { name: 'MatcherSyntaxError' }, bad);
  }
  t.throws(() => parseMatcher('a=~"("'), /invalid regular expression/);
});

t.test('refuses what RE2 refuses: lookarounds and backreferences', async (t) => {
  for (const bad of ['a=~"(?=x)x"', 'a=~"x(?!y)"', 'a=~"(?<=x)y"', 'a=~"(?<!x)y"', 'a=~"(x)\\\\1"', 'a=~"x{1001}"']) {
    t.throws(() => parseMatcher(bad), { name: 'MatcherSyntaxError', message: /invalid regular expression/ }, bad);
  }
});

t.test('a newline is not matched by ., and $ is the end of the text, as in Go', async (t) => {
  const m = parseMatcher('alertname=~"(?i).*breach.*"');
  t.equal(m.matches(toLabels({ alertname: 'DataBreach' })), true);
  t.equal(m.matches(toLabels({ alertname: 'DataBreach\n' })), false);
  t.equal(parseMatcher('alertname=~"(?s).*breach.*"').matches(toLabels({ alertname: 'breach\n' })), true);
});

t.test('a 1 MB label is matched (in linear time: a backtracking engine took a minute)', async (t) => {
  const m = parseMatcher('alertname=~"(?i).*(breach|exfiltration|ransomware|ddos).*"');
  const long = 'breach'.repeat(170_000);
  t.equal(m.matches(toLabels({ alertname: long })), true);
  t.equal(m.matches(toLabels({ alertname: `${long}\n` })), false);
});
