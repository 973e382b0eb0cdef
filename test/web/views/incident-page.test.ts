import t from 'tap';
import { silenceUrl } from '../../../src/web/views/incident-page.js';

t.test("the silence link: Alertmanager's form with the alert's labels as matchers, URL-encoded", async (t) => {
  const url = silenceUrl('http://alertmanager:9093/', { alertname: 'Disk"Full', path: 'C:\\data', 'a&b': 'x y#z' })!;
  t.match(url, /^http:\/\/alertmanager:9093\/#\/silences\/new\?filter=/);
  const filter = url.split('filter=')[1]!;
  t.notMatch(filter, /[{}"&# ]/, 'nothing left unencoded');
  t.equal(decodeURIComponent(filter), '{alertname="Disk\\"Full",path="C:\\\\data",a&b="x y#z"}');
  t.equal(silenceUrl('javascript:alert(1)//', { a: 'b' }), undefined);
  t.equal(silenceUrl('', { a: 'b' }), undefined);
});
