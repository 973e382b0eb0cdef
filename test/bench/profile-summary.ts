// npx tsx test/bench/profile-summary.ts FILE.cpuprofile [N]: self time by function and by file, the
// N largest of each, from a V8 CPU profile (node --cpu-prof).
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
const [file, n = '40'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file!, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
// LAST_MS: only the samples of the last so many milliseconds (the load, not the start-up).
const lastMs = Number(process.env['LAST_MS'] ?? Infinity);
const end = profile.timeDeltas.reduce((a, b) => a + b, 0);
const self = new Map<number, number>();
let at = 0;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (end - at <= lastMs * 1000) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
for (const node of profile.nodes) {
  const t = self.get(node.id) ?? 0;
  const url = node.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|src|test)\//, '$1/');
  const fn = `${node.callFrame.functionName || '(anon)'} ${url}:${node.callFrame.lineNumber + 1}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + t);
  const f = url.startsWith('node_modules/')
    ? url
        .split('/')
        .slice(0, url.includes('/@') ? 3 : 2)
        .join('/')
    : url || node.callFrame.functionName;
  byFile.set(f, (byFile.get(f) ?? 0) + t);
}
const show = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(n))
    .forEach(([k, v]) => console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`));
console.log(`total ${(total / 1000).toFixed(0)} ms\n-- by file --`);
show(byFile);
console.log('-- by function --');
show(byFn);
