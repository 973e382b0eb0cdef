import t from 'tap';
import { takeBatch, type Waiting } from '../../src/store/urgent-first.js';

/** A waiting notification: its group and its urgency (how many times it was asked, kept in `asked`). */
const w = (key: string, urgency?: number): Waiting & { name: string; asked: number } => {
  const item = { key, name: `${key}:${urgency ?? '-'}`, asked: 0 } as Waiting & { name: string; asked: number };
  if (urgency !== undefined)
    item.urgency = () => {
      item.asked++;
      return urgency;
    };
  return item;
};
const names = (list: { name: string }[]) => list.map((x) => x.name);

t.test('which notifications go in the next batch', async (t) => {
  const cases: { name: string; waiting: ReturnType<typeof w>[]; busy?: string[]; max: number; batch: string[]; left: string[] }[] = [
    { name: 'all fit: arrival order', waiting: [w('a', 3), w('b', 0)], max: 4, batch: ['a:3', 'b:0'], left: [] },
    { name: 'too many: the most urgent first', waiting: [w('a', 3), w('b', 3), w('c', 0)], max: 2, batch: ['c:0', 'a:3'], left: ['b:3'] },
    {
      name: 'arrival order within one urgency',
      waiting: [w('a', 2), w('b', 1), w('c', 2), w('d', 1)],
      max: 3,
      batch: ['b:1', 'd:1', 'a:2'],
      left: ['c:2'],
    },
    {
      name: 'a group keeps its order: its later Critical waits for its earlier Low',
      waiting: [w('g', 3), w('x', 3), w('g', 0), w('y', 3)],
      max: 2,
      batch: ['g:3', 'x:3'],
      left: ['g:0', 'y:3'],
    },
    {
      name: 'a group with a batch in flight waits, however urgent',
      waiting: [w('g', 0), w('x', 3)],
      busy: ['g'],
      max: 4,
      batch: ['x:3'],
      left: ['g:0'],
    },
    {
      name: 'no urgency, or a strange one, goes last',
      waiting: [w('a'), w('b', Number.NaN), w('c', 99), w('d', -5), w('e', 2)],
      max: 2,
      batch: ['d:-5', 'e:2'],
      left: ['a:-', 'b:NaN', 'c:99'],
    },
    { name: 'nothing can go', waiting: [w('g', 0)], busy: ['g'], max: 4, batch: [], left: ['g:0'] },
  ];
  for (const c of cases) {
    const { batch, left } = takeBatch(c.waiting, new Set(c.busy ?? []), c.max);
    t.same(names(batch), c.batch, `${c.name}: batch`);
    t.same(names(left), c.left, `${c.name}: left`);
  }
});

t.test('urgency is asked only when the waiting do not fit, and once however long one waits', async (t) => {
  const fit = [w('a', 3), w('b', 0)];
  takeBatch(fit, new Set(), 2);
  t.same(
    fit.map((x) => x.asked),
    [0, 0],
    'not asked when all fit',
  );
  let waiting = Array.from({ length: 10 }, (_, i) => w(`g${i}`, i % 4));
  const all = [...waiting];
  const order: string[] = [];
  while (waiting.length) {
    const { batch, left } = takeBatch(waiting, new Set(), 3);
    order.push(...names(batch));
    waiting = left;
  }
  t.same(order, ['g0:0', 'g4:0', 'g8:0', 'g1:1', 'g5:1', 'g9:1', 'g2:2', 'g6:2', 'g3:3', 'g7:3'], 'most urgent first, each once');
  t.ok(
    all.every((x) => x.asked <= 1),
    'each asked once at most',
  );
});

t.test('an urgency that throws goes last and does not stop the batch', async (t) => {
  const bad: Waiting & { name: string } = {
    key: 'bad',
    name: 'bad',
    urgency: () => {
      throw new Error('no rule');
    },
  };
  const { batch, left } = takeBatch([bad, w('a', 3)], new Set(), 1);
  t.same(names(batch), ['a:3']);
  t.same(names(left), ['bad']);
});
