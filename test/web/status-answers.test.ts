import t from 'tap';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { chooseEncoding, matches } from '../../src/web/status-answers.js';
import { makeApp, shippedConfig } from '../helpers.js';

// The cached answers of /status and its feeds (docs/status-page.md "Load"): compressed once and
// chosen by Accept-Encoding, a cheap 304, the same security headers as every public page, and on
// the service's own port a budget beyond which visitors get a quick 503.

t.test('Accept-Encoding: brotli, else gzip, else none; a coding refused with q=0 is not sent', async (t) => {
  t.equal(chooseEncoding(undefined), 'identity');
  t.equal(chooseEncoding('gzip, deflate, br, zstd'), 'br');
  t.equal(chooseEncoding('gzip'), 'gzip');
  t.equal(chooseEncoding('GZIP;q=0.5, identity'), 'gzip');
  t.equal(chooseEncoding('br;q=0, gzip'), 'gzip');
  t.equal(chooseEncoding('br;q=0.0, gzip;q=0'), 'identity');
  t.equal(chooseEncoding('deflate'), 'identity');
  t.equal(chooseEncoding('br;q=0.1'), 'br');
});

t.test('If-None-Match: the tag, weakly, in a list, or *', async (t) => {
  const tag = '"abc"';
  t.ok(matches('"abc"', tag));
  t.ok(matches('W/"abc"', tag));
  t.ok(matches('"x", "abc"', tag));
  t.ok(matches('*', tag));
  t.notOk(matches('"abcd"', tag));
  t.notOk(matches(undefined, tag));
});

t.test('/status and its feeds: each encoding the same text, the same ETag, a 304 and a HEAD without a body', async (t) => {
  const { app } = await makeApp(t, { config: { statusCacheMs: 60_000 } });
  for (const url of ['/status', '/status/feed.atom', '/status/feed.rss', '/status/summary.json']) {
    const plain = await app.inject({ url });
    t.equal(plain.statusCode, 200, url);
    t.notOk(plain.headers['content-encoding'], 'none asked, none sent');
    t.equal(plain.headers['content-length'], String(plain.rawPayload.length));
    const br = await app.inject({ url, headers: { 'accept-encoding': 'gzip, deflate, br' } });
    t.equal(br.headers['content-encoding'], 'br');
    t.equal(brotliDecompressSync(br.rawPayload).toString(), plain.body, `${url}: brotli`);
    const gz = await app.inject({ url, headers: { 'accept-encoding': 'gzip' } });
    t.equal(gz.headers['content-encoding'], 'gzip');
    t.equal(gunzipSync(gz.rawPayload).toString(), plain.body, `${url}: gzip`);
    t.ok(gz.rawPayload.length < plain.rawPayload.length, 'smaller');
    for (const r of [br, gz]) {
      t.equal(r.headers.etag, plain.headers.etag, 'one ETag whatever the encoding');
      t.equal(r.headers.vary, 'accept-encoding');
      t.equal(r.headers['cache-control'], 'public, max-age=15');
    }
    t.match(plain.headers['content-security-policy'], /^default-src 'none';/);
    t.equal(plain.headers['x-frame-options'], 'SAMEORIGIN');
    t.notOk(plain.headers['set-cookie']);

    const again = await app.inject({ url, headers: { 'if-none-match': `W/${plain.headers.etag as string}` } });
    t.equal(again.statusCode, 304);
    t.equal(again.rawPayload.length, 0);
    t.equal(again.headers.etag, plain.headers.etag);
    t.equal(again.headers['cache-control'], 'public, max-age=15');

    const head = await app.inject({ url, method: 'HEAD', headers: { 'accept-encoding': 'br' } });
    t.equal(head.statusCode, 200);
    t.equal(head.rawPayload.length, 0, 'a HEAD has no body');
    t.equal(head.headers['content-length'], br.headers['content-length']);
  }
  const css = await app.inject({ url: '/status/status.css' });
  t.match(css.headers['content-security-policy'], /^default-src 'none';/, 'the other public answers carry the same headers');
  const confirm = await app.inject({ url: `/status/confirm/${'a'.repeat(24)}` });
  t.match(confirm.headers['content-security-policy'], /form-action 'self'/);
  t.equal(confirm.headers['cache-control'], 'no-store');
});

t.test("on the service's port, visitors beyond server.statusAnswersPerSecond wait their turn, then get a quick 503", async (t) => {
  const triage = { ...shippedConfig, server: { ...shippedConfig.server, statusAnswersPerSecond: 1 } };
  const { app } = await makeApp(t, { config: { triage, statusCacheMs: 60_000 } });
  // One answer a second, a queue of two seconds' worth: of six at once, one goes, two wait, three are refused.
  const answers = await Promise.all(Array.from({ length: 6 }, () => app.inject({ url: '/status' })));
  const codes = answers.map((a) => a.statusCode).sort();
  t.same(codes, [200, 200, 200, 503, 503, 503]);
  const busy = answers.find((a) => a.statusCode === 503)!;
  t.equal(busy.headers['retry-after'], '5');
  t.equal(busy.headers['cache-control'], 'no-store', 'a proxy keeps no refusal');
  t.match(busy.headers['content-security-policy'], /^default-src 'none';/);
  t.match(busy.body, /busy/);
  // The webhook is not held back meanwhile.
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
});
