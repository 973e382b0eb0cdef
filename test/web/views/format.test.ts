import t from 'tap';
import { decidedBy, relative } from '../../../src/web/views/format.js';

t.test('words for the deadline and the decision', async (t) => {
  t.equal(relative(5 * 60_000, 0), 'in 5m');
  t.equal(relative(0, 90 * 60_000), '1h30m ago');
  t.equal(relative(30_000, 0), 'in 30s');
  t.equal(decidedBy('label:severity=critical'), "the alert's label severity=critical");
  t.equal(decidedBy('ddos'), 'rule ddos');
});
