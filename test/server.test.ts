// The process (src/server.ts): serving, secrets, start-up refusals, graceful shutdown. Split over
// three files so that, run in parallel, none of them nears the per-file timeout on a busy machine.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fixture, freePort, tempDir } from './helpers.js';
import { start, waitFor } from './fakes/server-process.js';

// This file starts the real service some fifteen times, each a new Node process loading TypeScript
// through tsx: alone it takes about 70 s, beside the rest of the suite on a shared 2-core machine
// over the default 120 s, which then cuts it off half-way.
t.setTimeout(300_000);

const SECRET = 'very-secret-webhook-token-4242';

t.test('serves, keeps secrets out of the log, shuts down on SIGTERM and keeps what it accepted', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const env = {
    PORT: String(port),
    DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    WEBHOOK_TOKEN: SECRET,
    API_TOKEN: 'api-secret-77',
    LOG_LEVEL: 'trace',
  };
  const first = start(env);
  t.teardown(() => first.child.kill('SIGKILL'));
  await waitFor(first, 'alert-triage ready');
  const base = `http://127.0.0.1:${port}`;
  const res = await fetch(`${base}/webhook/alertmanager`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify(fixture('firing-two-alerts').body),
  });
  t.equal(res.status, 200);
  t.equal((await fetch(`${base}/readyz`)).status, 200);
  first.child.kill('SIGTERM');
  t.equal(await first.exited, 0, 'exits cleanly');
  t.match(first.output(), /shutting down/);
  t.notMatch(first.output(), SECRET, 'the webhook token is never logged');
  t.notMatch(first.output(), 'api-secret-77', 'the API token is never logged');

  const second = start(env);
  t.teardown(() => second.child.kill('SIGKILL'));
  await waitFor(second, 'alert-triage ready');
  const got = await fetch(`${base}/api/incidents/1`, { headers: { authorization: 'Bearer api-secret-77' } });
  t.match(await got.json(), { id: 1, status: 'open', alerts: [{}, {}] });
  second.child.kill('SIGTERM');
  t.equal(await second.exited, 0);
});

t.test('without tokens it starts for a trial with a loud warning; production refuses', async (t) => {
  const dir = tempDir(t);
  const trial = start({ PORT: String(await freePort()), DATABASE_URL: `sqlite:${join(dir, 'a.db')}` });
  t.teardown(() => trial.child.kill('SIGKILL'));
  await waitFor(trial, 'alert-triage ready');
  t.match(trial.output(), /WEBHOOK_TOKEN is not set/);
  t.match(trial.output(), /API_TOKEN is not set/);
  trial.child.kill('SIGTERM');
  await trial.exited;

  const prod = start({ NODE_ENV: 'production', PORT: String(await freePort()), DATABASE_URL: `sqlite:${join(dir, 'b.db')}` });
  t.equal(await prod.exited, 78);
  t.match(prod.output(), /WEBHOOK_TOKEN and API_TOKEN: required when NODE_ENV=production/);
});

t.test('a bad config file or DATABASE_URL stops it with a message naming the culprit', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'triage.yml');
  writeFileSync(file, 'sla: {critical: 5m, high: 1h, medium: 4h, low: 24h}\nclassification: {defaultSeverity: severe, rules: []}\n');
  const bad = start({ TRIAGE_CONFIG: file, PORT: String(await freePort()) });
  t.equal(await bad.exited, 78);
  t.match(bad.output(), `${file}: classification.defaultSeverity: must be one of critical, high, medium, low`);

  const pg = start({ DATABASE_URL: 'postgres://triage:hunter2@127.0.0.1:5432/test', PORT: String(await freePort()) });
  t.equal(await pg.exited, 78);
  // Whether a server answers there or not, the start stops with the reason and the URL masked.
  t.match(pg.output(), /DATABASE_URL: cannot open the PostgreSQL database postgres:\/\/\*\*\*@127\.0\.0\.1:5432\/test \(/);
  t.notMatch(pg.output(), 'hunter2');
});

t.test('SIGTERM during a request: the request finishes and is committed, then the process exits', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const env = { PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, WEBHOOK_TOKEN: SECRET, API_TOKEN: 'api' };
  const first = start(env);
  t.teardown(() => first.child.kill('SIGKILL'));
  await waitFor(first, 'alert-triage ready');

  // Send the headers and half the body, signal, then the rest: the request is in flight.
  const body = JSON.stringify(fixture('firing-two-alerts').body);
  const { request } = await import('node:http');
  const answer = new Promise<{ status: number | undefined; text: string }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/webhook/alertmanager',
        headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      },
    );
    req.on('error', reject);
    req.write(body.slice(0, 200));
    setTimeout(() => {
      first.child.kill('SIGTERM');
      setTimeout(() => req.end(body.slice(200)), 300);
    }, 200);
  });
  const res = await answer;
  t.equal(res.status, 200, res.text);
  t.equal(await first.exited, 0);
  t.match(first.output(), /shutting down/);

  const second = start(env);
  t.teardown(() => second.child.kill('SIGKILL'));
  await waitFor(second, 'alert-triage ready');
  const got = await fetch(`http://127.0.0.1:${port}/api/incidents`, { headers: { authorization: 'Bearer api' } });
  t.equal(((await got.json()) as { incidents: unknown[] }).incidents.length, 1, 'what was answered 200 is in the store');
  second.child.kill('SIGTERM');
  await second.exited;
});
