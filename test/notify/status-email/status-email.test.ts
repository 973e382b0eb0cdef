import t from 'tap';
import { confirmationMessage } from '../../../src/notify/status-email/status-email.js';

t.test('a confirmation e-mail: the components named, HTML escaped, bidi controls shown, one subject line', async (t) => {
  const m = confirmationMessage('Acme <b>status</b>\r\nBcc: x@example.com', 'https://status.example.com/status/confirm/abc', [
    'API & "web"',
    'Pay\u202Ements',
  ]);
  t.notMatch(m.subject, /[\r\n]/, 'no header can be added through the title');
  t.match(m.subject, /Confirm your subscription$/);
  t.match(m.html, /Acme &lt;b&gt;status&lt;\/b&gt;/);
  t.match(m.html, /API &amp; &quot;web&quot;/);
  t.notMatch(m.html + m.text + m.subject, /\u202E/, 'a bidi control is shown, not obeyed');
  t.match(m.text, /\[U\+202E\]/);
  t.match(m.text, /Confirm: https:\/\/status\.example\.com\/status\/confirm\/abc/);
  t.match(m.html, /<a href="https:\/\/status\.example\.com\/status\/confirm\/abc">/);
  t.match(confirmationMessage('Acme', 'https://x/status/confirm/abc', []).text, /every update of Acme/);
});
