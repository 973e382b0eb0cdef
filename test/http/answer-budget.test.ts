import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { AnswerBudget } from '../../src/http/answer-budget.js';

// The status page's share of the webhook's event loop (docs/adr/0007): a token bucket whose
// overflow waits its turn, and beyond the wait it may have, is refused at once.

t.test('within the burst answers go at once; beyond it they wait their turn; a full queue is refused at once', async (t) => {
  let now = 0;
  const budget = new AnswerBudget({ perSecond: 10, burst: 2, maxWaitMs: 200 }, () => now);
  t.equal(budget.admit(), true);
  t.equal(budget.admit(), true);
  const third = budget.admit();
  const fourth = budget.admit();
  t.not(third, true, 'the third waits');
  t.equal(budget.queued, 2);
  t.equal(await budget.admit(), false, 'the queue holds 200 ms worth (2 answers): the fifth is refused');
  // Turns are handed out by a timer, in real time; the sleeps let it run.
  now = 100; // one turn has come
  await sleep(150);
  t.equal(await third, true, 'the first in line goes first');
  t.equal(budget.queued, 1);
  now = 200;
  await sleep(150);
  t.equal(await fourth, true);
  t.equal(budget.queued, 0);
  now = 10_000;
  t.equal(budget.admit(), true, 'after a quiet spell the burst is back');
  t.equal(budget.admit(), true);
  t.not(budget.admit(), true, 'but never more than the burst');
  budget.close();
});

t.test('closing refuses the waiting and whatever comes after', async (t) => {
  const now = 0;
  const budget = new AnswerBudget({ perSecond: 1, burst: 1 }, () => now);
  t.equal(budget.admit(), true);
  const waiting = budget.admit();
  budget.close();
  t.equal(await waiting, false);
  t.equal(await budget.admit(), false);
});

t.test('a waiter behind others does not jump the queue when a token comes back between timer turns', async (t) => {
  let now = 0;
  const budget = new AnswerBudget({ perSecond: 10, burst: 1, maxWaitMs: 1000 }, () => now);
  t.equal(budget.admit(), true);
  const first = budget.admit();
  now = 100;
  const second = budget.admit();
  t.not(second, true, 'a newcomer waits behind the one already waiting, though a token is there');
  now = 200;
  await sleep(150);
  t.equal(await first, true);
  now = 300;
  await sleep(150);
  t.equal(await second, true);
  budget.close();
});
