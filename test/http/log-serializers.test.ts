import t from 'tap';
import { redactUrl } from '../../src/http/log-serializers.js';

t.test('a URL is logged without its secrets: query values, a calendar feed, the links of a status page e-mail', async (t) => {
  t.equal(redactUrl('/api/incidents?token=abc&limit=5'), '/api/incidents?token=[redacted]&limit=[redacted]');
  t.equal(redactUrl('/calendar/s3cret.ics'), '/calendar/[redacted]');
  t.equal(redactUrl('/status/confirm/AbCdEfGhIjKlMnOpQrStUvWx'), '/status/confirm/[redacted]');
  t.equal(redactUrl('/status/unsubscribe/AbCdEfGhIjKlMnOpQrStUvWx?x=1'), '/status/unsubscribe/[redacted]');
  t.equal(redactUrl('/status/feed.atom'), '/status/feed.atom', 'the public pages as they are');
});
