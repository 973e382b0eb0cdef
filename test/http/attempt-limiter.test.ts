import t from 'tap';
import { AttemptLimiter } from '../../src/http/attempt-limiter.js';
import { ManualClock } from '../../src/clock.js';

t.test('a flood of new keys never frees a key that is held: the limiter forgets keys that are not held first', async (t) => {
  const clock = new ManualClock(Date.parse('2026-12-07T05:00:00Z'));
  const limiter = new AttemptLimiter(clock, { max: 3, windowMs: 60_000 }, 100);
  for (let i = 0; i < 3; i++) limiter.fail('guesser');
  t.ok(limiter.retryAfter('guesser'), 'the guesser is held');
  for (let i = 0; i < 1_000; i++) limiter.fail(`flood-${i}`);
  t.equal(limiter.retryAfter('guesser'), 60, 'and still held after 1,000 other keys in the same window');
  t.equal(limiter.retryAfter('flood-999'), undefined, 'the flood is not held');
  clock.advance(60_000);
  t.equal(limiter.retryAfter('guesser'), undefined, 'until its window ends');
});
