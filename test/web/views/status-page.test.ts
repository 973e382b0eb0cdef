import t from 'tap';
import { uptimePercent } from '../../../src/web/views/status-page.js';

t.test('uptime is rounded down: any outage shows below 100%', async (t) => {
  t.equal(uptimePercent(1), '100.00%');
  t.equal(uptimePercent(1 - 60_000 / (90 * 86_400_000)), '99.99%', 'one minute down in 90 days');
  t.equal(uptimePercent(0.99996), '99.99%');
  t.equal(uptimePercent(0.5), '50.00%');
  t.equal(uptimePercent(0), '0.00%');
});
