import t from 'tap';
import { parseVariant } from './variant.js';

t.test('a variant keeps every knob and every = in a value', async (t) => {
  t.same(parseVariant('cur=/work/main'), { label: 'cur', root: '/work/main', env: {} });
  t.same(parseVariant('mem=/work/main:BENCH_SQLITE_MEMORY=1'), { label: 'mem', root: '/work/main', env: { BENCH_SQLITE_MEMORY: '1' } });
  t.same(parseVariant('f=/x:BENCH_MODE=floor,NODE_OPTIONS=--max-semi-space-size=64'), {
    label: 'f',
    root: '/x',
    env: { BENCH_MODE: 'floor', NODE_OPTIONS: '--max-semi-space-size=64' },
  });
});

t.test('a malformed variant is refused, not run without its knobs', async (t) => {
  t.throws(() => parseVariant('/work/main'), /LABEL=DIR/);
  t.throws(() => parseVariant('a=/x:BENCH_MODE'), /ENV=V/);
});
