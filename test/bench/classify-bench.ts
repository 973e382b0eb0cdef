// npx tsx test/bench/classify-bench.ts: how long the shipped classification takes on a hostile
// 1 MB alertname (issue 12 #1). The RE2 engine is linear; for comparison, the backtracking
// RegExp the matcher used before is timed on the same pattern (BENCH_BACKTRACKING_REPEAT sets its
// input length: the full 170000 takes minutes, so it defaults to 20000 and reports the trend).
import { loadConfigFile } from '../../src/config/load-config.js';
import { toLabels } from '../../src/classify/labels.js';

const config = loadConfigFile(new URL('../../config/triage.yml', import.meta.url).pathname);
const PATTERN = config.classification.rules.find((r) => r.name === 'critical-by-name')!.matchers[0]!.match(/=~"(.*)"$/)![1]!;

function time<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const out = fn();
  return [out, performance.now() - start];
}

for (const suffix of ['\n', '']) {
  const name = `${'breach'.repeat(170_000)}${suffix}`;
  const [outcome, ms] = time(() => config.classify(toLabels({ alertname: name })));
  console.log(
    `RE2, shipped rules, ${(name.length / 1e6).toFixed(2)} MB alertname${suffix ? ' + "\\n"' : ''}: ${outcome.severity} by ${outcome.rule} in ${ms.toFixed(1)} ms`,
  );
}

const old = new RegExp(`^(?:${PATTERN.slice(4)})$`, 'iu');
const repeats = Number(process.env['BENCH_BACKTRACKING_REPEAT'] ?? 20_000);
for (const n of [repeats / 4, repeats / 2, repeats]) {
  const [, ms] = time(() => old.test(`${'breach'.repeat(n)}\n`));
  console.log(`backtracking RegExp (before), critical-by-name only, ${n} × "breach" + "\\n": ${ms.toFixed(0)} ms`);
}
