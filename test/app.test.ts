import t from 'tap';
import { buildApp } from '../src/app.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import { API_TOKEN, capturedLog, freePort, shippedConfig, tempDir } from './helpers.js';
import { join } from 'node:path';
import { connect } from 'node:net';

t.test('probes and scrapes are not written to the request log; other requests are', async (t) => {
  const log = capturedLog<{ msg: string; req?: { url: string }; level: number }>({ level: 'info' });
  const logger = log.logger;
  const store = new SqliteStore({ path: join(tempDir(t), 'triage.db') });
  const app = buildApp({ triage: shippedConfig, apiToken: API_TOKEN, dispatch: { autoStart: false } }, { store, logger });
  t.teardown(() => app.close());
  await app.ready();
  for (const url of ['/healthz', '/readyz', '/metrics', '/healthz'])
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
  t.equal((await app.inject({ method: 'GET', url: '/api/incidents', headers: { authorization: `Bearer ${API_TOKEN}` } })).statusCode, 200);
  const lines = log.lines();
  const requestLines = lines.filter((l) => l.msg === 'request completed');
  t.same(
    requestLines.map((l) => l.req?.url),
    ['/api/incidents'],
    'only the API request is logged',
  );
  // One line a request, on its answer: what was asked, by whom, the status and the time taken.
  t.equal(lines.filter((l) => l.msg === 'incoming request').length, 0, 'no line on arrival');
  t.equal(lines.filter((l) => l.msg.startsWith('request closed')).length, 0, 'none for a request that was answered');
  t.match(requestLines[0], { req: { method: 'GET', url: '/api/incidents' }, res: { statusCode: 200 }, responseTime: Number });
});

t.test('the request timeout holds against a body that trickles in', async (t) => {
  const { makeApp, freePort } = await import('./helpers.js');
  const triage = { ...shippedConfig, server: { ...shippedConfig.server, requestTimeoutMs: 2000 } };
  const { app } = await makeApp(t, { config: { triage } });
  const port = await freePort();
  await app.listen({ port, host: '127.0.0.1' });
  const { connect } = await import('node:net');
  const socket = connect(port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  let answer = '';
  let sent = 0;
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('data', (d: Buffer) => (answer += d.toString()));
  socket.write(
    'POST /webhook/alertmanager HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer test-webhook-token\r\nContent-Length: 60\r\n\r\n',
  );
  // One byte every 500 ms: the whole body would take 30 s.
  const drip = setInterval(() => {
    if (sent < 60 && !socket.destroyed) {
      socket.write('{');
      sent++;
    }
  }, 500);
  t.teardown(() => clearInterval(drip));
  await closed;
  clearInterval(drip);
  // Node ends the request at the timeout; Fastify answers 408, or 400 when the body parser saw the cut first.
  t.match(answer, /^HTTP\/1\.1 (408|400) /, 'answered with a 4xx, not left waiting');
  t.ok(sent <= 12, `cut off after ${sent} of 60 bytes (about ${sent / 2} s, the timeout being 2 s), not when the body was complete`);
});

t.test('readiness says whether a write would succeed: another process holding the lock makes it 503, liveness stays up', async (t) => {
  const { makeApp, postWebhook, payload, alert, uniqueGroup } = await import('./helpers.js');
  const Database = (await import('better-sqlite3')).default;
  const dbPath = join(tempDir(t), 'r.db');
  const { app } = await makeApp(t, { dbPath, store: new SqliteStore({ path: dbPath, lockWaitMs: 300 }) });
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  const other = new Database(dbPath);
  t.teardown(() => other.close());
  other.exec('BEGIN EXCLUSIVE');
  const ready = app.inject({ method: 'GET', url: '/readyz' });
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'alive while the probe waits');
  t.equal((await ready).statusCode, 503, 'not ready: a write would fail');
  const hook = await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')]));
  t.equal(hook.statusCode, 503);
  t.equal(hook.headers['retry-after'], '5', 'Alertmanager is told to retry');
  other.exec('ROLLBACK');
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'ready again, no restart');
});

t.test('a webhook whose sender hangs up before the answer is logged too', async (t) => {
  const { logger, lines } = capturedLog<{ msg: string; req?: { url: string } }>({ level: 'info' });
  const real = new SqliteStore({ path: join(tempDir(t), 'triage.db') });
  // The commit waits until the sender has gone, as in a storm where Alertmanager gives up.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const waiting = new Promise<void>((resolve) => (entered = resolve));
  const store = new Proxy(real, {
    get(target, prop) {
      if (prop === 'applyNotification')
        return async (...args: Parameters<SqliteStore['applyNotification']>) => {
          entered();
          await held;
          return target.applyNotification(...args);
        };
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const app = buildApp({ triage: shippedConfig, webhookToken: 'hook', dispatch: { autoStart: false } }, { store, logger });
  t.teardown(() => app.close());
  const port = await freePort();
  await app.listen({ port, host: '127.0.0.1' });
  const body = JSON.stringify({
    receiver: 'r',
    status: 'firing',
    groupKey: 'g',
    alerts: [{ status: 'firing', labels: { alertname: 'A' } }],
  });
  const socket = connect(port, '127.0.0.1');
  socket.write(
    `POST /webhook/alertmanager HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer hook\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  await waiting;
  socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  release();
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.match(
    lines().find((l) => l.msg === 'request closed by the client before its answer'),
    { req: { method: 'POST', url: '/webhook/alertmanager' } },
    'one line says the sender went away',
  );
});
