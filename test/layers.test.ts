import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';

// The folders of src/, top-down (README "Layout"): each may import only the ones below it. Folders
// on one line are peers and must not import each other.
const LAYERS: string[][] = [
  ['server.ts'],
  ['app.ts'],
  ['api', 'ingest', 'web'],
  ['service'],
  ['http', 'metrics', 'cli', 'alertmanager'],
  ['store'],
  ['config'],
  ['paging', 'notify'],
  ['people'],
  ['outbox'],
  ['incidents'],
  ['classify', 'clock.ts', 'well-formed.ts', 'timed-loop.ts'],
];
const SRC = new URL('../src/', import.meta.url).pathname;
const level = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i] as const)));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const place = (file: string) => relative(SRC, file).split('/')[0]!;

t.test('every folder of src/ imports only the folders below it', async (t) => {
  const upward: string[] = [];
  const all = files(SRC);
  for (const f of all) t.ok(level.has(place(f)), `${relative(SRC, f)} sits in a folder the layer list knows`);
  for (const file of all) {
    const from = place(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)) {
      const to = place(resolve(dirname(file), spec!));
      if (to !== from && level.get(to)! <= level.get(from)!) upward.push(`${relative(SRC, file)} -> ${spec}`);
    }
  }
  t.same(upward, [], 'no import runs back up or sideways');
});
