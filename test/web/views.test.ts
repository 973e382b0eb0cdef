import t from 'tap';
import { decidedBy, relative, silenceUrl } from '../../src/web/views.js';

t.test("the silence link: Alertmanager's form with the alert's labels as matchers, URL-encoded", async (t) => {
  const url = silenceUrl('http://alertmanager:9093/', { alertname: 'Disk"Full', path: 'C:\\data', 'a&b': 'x y#z' })!;
  t.match(url, /^http:\/\/alertmanager:9093\/#\/silences\/new\?filter=/);
  const filter = url.split('filter=')[1]!;
  t.notMatch(filter, /[{}"&# ]/, 'nothing left unencoded');
  t.equal(decodeURIComponent(filter), '{alertname="Disk\\"Full",path="C:\\\\data",a&b="x y#z"}');
  t.equal(silenceUrl('javascript:alert(1)//', { a: 'b' }), undefined);
  t.equal(silenceUrl('', { a: 'b' }), undefined);
});

t.test('words for the deadline and the decision', async (t) => {
  t.equal(relative(5 * 60_000, 0), 'in 5m');
  t.equal(relative(0, 90 * 60_000), '1h30m ago');
  t.equal(relative(30_000, 0), 'in 30s');
  t.equal(decidedBy('label:severity=critical'), "the alert's label severity=critical");
  t.equal(decidedBy('ddos'), 'rule ddos');
});
