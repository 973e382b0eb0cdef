import t, { type Test } from 'tap';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { MailServer } from '../fakes/mail-server.js';
import { start, waitFor } from '../fakes/server-process.js';
import { alert, freePort, makeApp, payload, postWebhook, shippedConfig, tempDir, uniqueGroup } from '../helpers.js';

// The status listener (STATUS_PORT; docs/adr/0007-status-page-off-the-webhook-loop.md): the public
// page on a port and a thread of its own, fed with snapshots by the main thread, started and
// stopped with the app; its forms write through the main thread; nothing internal reaches it.

const HOSTILE = '<script>alert(1)</script><a href="https://evil.example">click</a> \u202Eevil\u202C';

async function withListener(t: Test) {
  const mail = await new MailServer().start();
  t.teardown(() => mail.stop());
  const ctx = await makeApp(t, {
    config: {
      statusCacheMs: 0,
      statusListener: { port: 0, host: '127.0.0.1' },
      channels: { smtpUrl: mail.url, emailFrom: 'status@example.com', statusEmailIntervalMs: 1 },
    },
  });
  const port = ctx.app.triage.statusListener!.port!;
  return { ...ctx, mail, port, base: `http://127.0.0.1:${port}` };
}

/** Polls `get` until `ok` holds (the main thread posts a new snapshot within a second); a bound, not a speed check. */
async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const form = (fields: Record<string, string>, origin?: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}) },
  body: new URLSearchParams(fields).toString(),
  redirect: 'manual' as const,
});

t.test('the listener serves what the service posts, nothing internal, and only the status page', async (t) => {
  const { app, base } = await withListener(t);
  const r = await postWebhook(
    app,
    payload(uniqueGroup(), [
      alert('ServiceDown', { labels: { service: 'api', secret_label: HOSTILE }, annotations: { summary: `internal ${HOSTILE}` } }),
    ]),
  );
  const id = r.json().incident.id as number;
  const incident = (await app.triage.store.incidentHead(id, { offset: 0, limit: 1 }))!;
  await app.triage.status.post(
    incident,
    { name: 'Carol Diaz', contact: 'carol', via: 'web' },
    {
      state: 'investigating',
      title: `Title ${HOSTILE}`,
      message: `Message ${HOSTILE}`,
      components: [{ id: 'api', status: 'major_outage' }],
    },
    false,
  );
  const page = await until(
    () => fetch(`${base}/status`),
    (res) => res.status === 200 && res.headers.get('etag') !== null,
  );
  const body = await until(
    async () => (await fetch(`${base}/status`)).text(),
    (b) => b.includes('Major outage'),
  );
  t.match(
    body,
    /<bdi>Title &lt;script&gt;alert\(1\)&lt;\/script&gt;&lt;a href=&quot;https:\/\/evil\.example&quot;&gt;click&lt;\/a&gt; \[U\+202E\]evil\[U\+202C\]<\/bdi>/,
  );
  t.notMatch(body, /secret_label|internal <|ServiceDown|Carol|carol|<script>|\u202E/, 'no label, annotation, name or markup');
  t.match(page.headers.get('content-security-policy'), /^default-src 'none';/);
  t.equal(page.headers.get('cache-control'), 'public, max-age=15');

  // The same snapshot gives the same answer on both ports (the manual clock stands still).
  const own = await app.inject({ url: '/status' });
  const there = await fetch(`${base}/status`);
  t.equal(there.headers.get('etag'), own.headers.etag, 'one ETag on both ports');
  t.equal(await there.text(), own.body);
  const revisit = await fetch(`${base}/status`, { headers: { 'if-none-match': own.headers.etag as string } });
  t.equal(revisit.status, 304);
  const gz = await fetch(`${base}/status/summary.json`, { headers: { 'accept-encoding': 'gzip' } });
  t.equal(gz.headers.get('content-encoding'), 'gzip');
  // fetch has inflated it already.
  const summary = (await gz.json()) as { status: { indicator: string } };
  t.equal(summary.status.indicator, 'major_outage');
  t.equal((await fetch(`${base}/status/feed.atom`)).status, 200);
  t.equal((await fetch(`${base}/status/status.css`)).status, 200);

  // Only the status page answers on this port.
  const root = await fetch(`${base}/`, { redirect: 'manual' });
  t.equal(root.status, 302);
  t.equal(root.headers.get('location'), '/status');
  t.equal((await fetch(`${base}/api/incidents`)).status, 404);
  t.equal((await fetch(`${base}/incidents/${id}`)).status, 404);
  t.equal((await fetch(`${base}/webhook/alertmanager`, { method: 'POST', body: '{}' })).status, 404);
  t.equal((await fetch(`${base}/metrics`)).status, 404);
});

t.test("the listener's forms write through the service: subscribe, confirm, unsubscribe; another origin is refused", async (t) => {
  const { app, base, mail, clock } = await withListener(t);
  // The subscribe form is offered once the listener has the service's first snapshot.
  await until(
    async () => (await fetch(`${base}/status`)).text(),
    (b) => b.includes('id="subscribe"'),
  );
  const asked = await fetch(`${base}/status/subscribe`, form({ email: 'Reader@Example.com' }));
  t.equal(asked.status, 200);
  t.match(await asked.text(), /Check your inbox/);
  const bad = await fetch(`${base}/status/subscribe`, form({ email: 'not an address' }));
  t.equal(bad.status, 400);
  t.match(await bad.text(), /That is not an e-mail address/, "the service's words for a bad address");
  const foreign = await fetch(`${base}/status/subscribe`, form({ email: 'x@example.com' }, 'https://evil.example'));
  t.equal(foreign.status, 403, 'a form from another site is refused');

  // The confirmation e-mail is an outbox notice, queued with the request.
  for (let n = 0; n < 10; n++) {
    clock.advance(1000);
    if ((await app.triage.dispatcher.tick()) === 0) break;
  }
  const confirmation = mail.received.find((m) => /Confirm your subscription/.test(m.mail.subject ?? ''));
  const link = /\/status\/confirm\/[A-Za-z0-9_-]+/.exec(confirmation?.mail.text ?? '')?.[0];
  t.ok(link, 'the confirmation e-mail was sent by the service');
  const shown = await fetch(`${base}${link!}`);
  t.match(await shown.text(), /Press the button/);
  t.equal((await app.triage.store.confirmedSubscribers()).length, 0, 'a GET confirms nobody');
  const confirmed = await fetch(`${base}${link!}`, form({}));
  t.match(await confirmed.text(), /Subscribed/);
  t.equal((await app.triage.store.confirmedSubscribers()).length, 1, 'confirmed in the store, through the main thread');
  const expired = await fetch(`${base}${link!}`, form({}));
  t.equal(expired.status, 404, 'a used link has expired');
  // An update e-mailed to the subscriber carries the one-click link.
  const r = await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { service: 'api' } })]));
  const incident = (await app.triage.store.incidentHead(r.json().incident.id as number, { offset: 0, limit: 1 }))!;
  await app.triage.status.post(
    incident,
    { name: 'Carol Diaz', contact: 'carol', via: 'web' },
    { state: 'investigating', title: 'API errors', message: 'Looking.', components: [] },
    true,
  );
  for (let n = 0; n < 10; n++) {
    clock.advance(1000);
    if ((await app.triage.dispatcher.tick()) === 0) break;
  }
  const update = mail.received.find((m) => /Investigating: API errors/.test(m.mail.subject ?? ''));
  const header = update?.mail.headerLines.find((h) => h.key === 'list-unsubscribe')?.line ?? '';
  const unsubscribe = /\/status\/unsubscribe\/[A-Za-z0-9_-]+/.exec(header)?.[0];
  t.ok(unsubscribe, 'the update came with its one-click link');
  const gone = await fetch(`${base}${unsubscribe!}`, form({ 'List-Unsubscribe': 'One-Click' }));
  t.match(await gone.text(), /Unsubscribed/);
  t.equal((await app.triage.store.confirmedSubscribers()).length, 0);
});

t.test('the store failing after a read: the listener serves the last snapshot, marked stale', async (t) => {
  const { store, base } = await withListener(t);
  t.equal((await fetch(`${base}/status`)).status, 200);
  const original = store.statusUpdates.bind(store);
  store.statusUpdates = () => Promise.reject(new Error('database gone'));
  t.teardown(() => (store.statusUpdates = original));
  const body = await until(
    async () => (await fetch(`${base}/status`)).text(),
    (b) => b.includes('This page could not be refreshed'),
  );
  t.match(body, /This page could not be refreshed/);
});

t.test('server.statusPortAnswersPerSecond: a budget on the thread too, for a host without a core to spare', async (t) => {
  const triage = { ...shippedConfig, server: { ...shippedConfig.server, statusPortAnswersPerSecond: 1 } };
  const { app } = await makeApp(t, { config: { triage, statusListener: { port: 0, host: '127.0.0.1' } } });
  const base = `http://127.0.0.1:${app.triage.statusListener!.port!}`;
  const codes = (await Promise.all(Array.from({ length: 6 }, () => fetch(`${base}/status`).then((r) => r.status)))).sort();
  t.same(codes, [200, 200, 200, 503, 503, 503], 'one at once, two in line, three refused');
});

t.test('a thread that dies is started again on the same port', async (t) => {
  const { app, base } = await withListener(t);
  t.equal((await fetch(`${base}/status`)).status, 200);
  // Reached through the private field: nothing outside should end the thread.
  const worker = (app.triage.statusListener as unknown as { worker: { terminate(): Promise<number> } }).worker;
  await worker.terminate();
  const again = await until(
    () =>
      fetch(`${base}/status`).then(
        (r) => r.status,
        () => 0,
      ),
    (code) => code === 200,
  );
  t.equal(again, 200, 'serving again');
});

t.test('the listener stops with the app, and a taken port stops the app from starting', async (t) => {
  const { app, base } = await withListener(t);
  t.equal((await fetch(`${base}/status`)).status, 200);
  await app.close();
  await t.rejects(fetch(`${base}/status`), 'nothing listens once the app is closed');

  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  await t.rejects(makeApp(t, { config: { statusListener: { port, host: '127.0.0.1' } } }), /status listener: .*EADDRINUSE/);
});

t.test('STATUS_PORT: the process serves the status page there and shuts down cleanly on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const [port, statusPort] = [await freePort(), await freePort()];
  const running = start({
    PORT: String(port),
    STATUS_PORT: String(statusPort),
    DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    WEBHOOK_TOKEN: 'status-listener-webhook-token',
    API_TOKEN: 'status-listener-api-token',
  });
  t.teardown(() => running.child.kill('SIGKILL'));
  await waitFor(running, 'alert-triage ready');
  t.match(running.output(), new RegExp(`"statusPort":${statusPort}`));
  const page = await fetch(`http://127.0.0.1:${statusPort}/status`);
  t.equal(page.status, 200);
  t.match(await page.text(), /<h1>Example status<\/h1>/);
  t.equal((await fetch(`http://127.0.0.1:${statusPort}/api/incidents`)).status, 404);
  running.child.kill('SIGTERM');
  t.equal(await running.exited, 0, 'exits cleanly, the thread with it');
});
