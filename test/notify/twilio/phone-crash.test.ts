// A hung Calls.json followed by kill -9: Twilio placed the call but the answer never came back.
// The page is taken again (at the restart on SQLite, by the other replica when the lease runs out
// on PostgreSQL), looked up in Twilio's list of calls to that number, found, and not placed again:
// one call, not two.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { alert, freePort, payload, tempDir, uniqueGroup, WEBHOOK_TOKEN } from '../../helpers.js';
import { start, waitFor, type Running } from '../../fakes/server-process.js';
import { TwilioApiServer } from '../../fakes/twilio-api-server.js';
import { ACCOUNT_SID, AUTH_TOKEN, FROM, PHONES, phoneConfigText } from './phone-helpers.js';

// Processes start slowly on a shared machine, and PostgreSQL waits out a 30 s lease.
t.setTimeout(360_000);

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Timeline = { timeline: { kind: string; channel?: string; detail: string }[] };

async function killDuringCall(t: Test, databaseUrl?: string) {
  const twilio = await new TwilioApiServer(ACCOUNT_SID, AUTH_TOKEN, [FROM]).start();
  t.teardown(() => twilio.stop());
  twilio.failNext('Calls', { hang: true });
  const dir = tempDir(t);
  const config = join(dir, 'triage.yml');
  // The call at once, so that the test need not wait a minute of real time.
  writeFileSync(config, phoneConfigText() + '\nnotificationRules:\n  critical: [{ method: voice, after: 0s }]\n');
  const env = (port: number) => ({
    PORT: String(port),
    DATABASE_URL: databaseUrl ?? `sqlite:${join(dir, 'db.sqlite')}`,
    TRIAGE_CONFIG: config,
    WEBHOOK_TOKEN,
    API_TOKEN: 'api',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_API_URL: twilio.url,
    TWILIO_FROM: FROM,
  });
  const launch = async (port: number): Promise<Running> => {
    const r = start(env(port));
    t.teardown(() => r.child.kill('SIGKILL'));
    await waitFor(r, 'alert-triage ready', 90_000);
    return r;
  };
  const portA = await freePort();
  const first = await launch(portA);
  // On PostgreSQL, a second replica runs all along; on SQLite (one process per file) the service restarts.
  const portB = databaseUrl ? await freePort() : portA;
  const replica = databaseUrl ? await launch(portB) : undefined;
  const res = await fetch(`http://127.0.0.1:${portA}/webhook/alertmanager`, {
    method: 'POST',
    headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(payload(uniqueGroup(), [alert('PaymentsApiDown', { labels: { severity: 'critical' } })])),
  });
  t.equal(res.status, 200, 'committed');
  await until('Twilio to take the call', () => twilio.calls.length === 1);
  // Which replica placed it does not matter: on PostgreSQL it is killed if it was the first, else the
  // hung request stays the other's until that one is killed too, below.
  first.child.kill('SIGKILL');
  await first.exited;
  const second = replica ?? (await launch(portB));
  const incident = async () =>
    (await (await fetch(`http://127.0.0.1:${portB}/api/incidents/1`, { headers: { authorization: 'Bearer api' } })).json()) as Timeline;
  await until(
    'the call page to be settled',
    async () => (await incident()).timeline.some((e) => e.kind === 'paged' && e.channel === 'voice'),
    70_000,
  );
  const final = await incident();
  second.child.kill('SIGTERM');
  await second.exited;
  return { twilio, incident: final };
}

t.test('SQLite: killed (-9) while Calls.json hung; after the restart the call is found in Twilio, not placed again', async (t) => {
  const { twilio, incident } = await killDuringCall(t);
  t.equal(twilio.calls.length, 1, 'one call, not two');
  t.equal(twilio.calls[0]!.to, PHONES.carol);
  t.ok(
    twilio.requests.some((r) => r.method === 'GET' && r.path.includes('/Calls.json?') && r.path.includes(encodeURIComponent(PHONES.carol))),
    "looked up in Twilio's calls to that number first",
  );
  t.match(incident.timeline.find((e) => e.kind === 'paged' && e.channel === 'voice')?.detail, /found already delivered, not sent again/);
});

t.test('two PostgreSQL replicas: one killed (-9) while Calls.json hung; the other finds the call once the lease runs out', async (t) => {
  const { testDatabase } = await import('../../store/postgres-test-db.js');
  const db = await testDatabase(t);
  if ('skip' in db) return t.plan(0, db.skip);
  const { twilio, incident } = await killDuringCall(t, db.url);
  t.equal(twilio.calls.length, 1, 'one call, not two');
  t.match(incident.timeline.find((e) => e.kind === 'paged' && e.channel === 'voice')?.detail, /found already delivered, not sent again/);
});
