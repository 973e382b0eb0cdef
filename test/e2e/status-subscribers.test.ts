// Status page subscribers through the real SMTP server, on SQLite and on two replicas of one
// PostgreSQL database: double opt-in with the confirmation e-mail an outbox notice (sent once with
// both dispatchers claiming, retried after the mail server refused it), each public update e-mailed
// once, RFC 8058's one-click unsubscribe, nothing after it, and the plan's "Users notified" once the
// closing update went out; the subscribe limits shared by the replicas; unconfirmed subscriptions
// deleted by the scheduler's pass a week on; no link in the log.
import { createServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { logSerializers } from '../../src/http/log-serializers.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { ManualClock } from '../../src/clock.js';
import type { IncidentStore } from '../../src/store/store.js';
import { MailServer } from '../fakes/mail-server.js';
import { alert, api, makeApp, payload, postWebhook, T0, tempDir, uniqueGroup, type TestApp } from '../helpers.js';
import { testDatabase } from '../store/postgres-test-db.js';

const DAY = 86_400_000;
const db = await testDatabase(t);
let schemas = 0;

/** One replica on SQLite, or two on one PostgreSQL schema; each with its own log. */
interface Setup {
  name: string;
  replicas(t: Test, mail: MailServer, clock: ManualClock): Promise<(TestApp & { log: () => string })[]>;
}

/** A log as the service writes it (server.ts's serializers), kept as text. */
function serviceLog() {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'trace', serializers: logSerializers }, sink), text: () => chunks.join('') };
}

const appOf = async (t: Test, store: IncidentStore, mail: { url: string }, clock: ManualClock, owner: string, smtpTimeoutMs?: number) => {
  const log = serviceLog();
  const app = await makeApp(t, {
    store,
    clock,
    logger: log.logger as unknown as NonNullable<Parameters<typeof makeApp>[1]>['logger'],
    config: {
      statusCacheMs: 0,
      dispatch: { autoStart: false, owner, random: () => 0.5 },
      channels: {
        smtpUrl: mail.url,
        emailFrom: 'status@example.com',
        statusPublicUrl: 'https://status.example.com',
        statusEmailIntervalMs: 1,
        ...(smtpTimeoutMs ? { smtpTimeoutMs } : {}),
      },
    },
  });
  return { ...app, log: log.text };
};

const SETUPS: Setup[] = [
  {
    name: 'SQLite',
    replicas: async (t, mail, clock) => [await appOf(t, new SqliteStore({ path: `${tempDir(t)}/triage.db` }), mail, clock, 'replica-a')],
  },
];
if (!('skip' in db))
  SETUPS.push({
    name: 'PostgreSQL, two replicas',
    replicas: async (t, mail, clock) => {
      const schema = `status${++schemas}_${process.pid}`;
      const replica = async (owner: string) => appOf(t, await PostgresStore.open({ url: db.url, schema, poolSize: 4 }), mail, clock, owner);
      return [await replica('replica-a'), await replica('replica-b')];
    },
  });
else t.comment(`PostgreSQL cases skipped: ${db.skip}`);

const form = (fields: Record<string, string>, remoteAddress = '203.0.113.9') => ({
  method: 'POST' as const,
  remoteAddress,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams(fields).toString(),
});
const subject = (m: { mail: { subject?: string | undefined } }) => m.mail.subject ?? '';
const isConfirmation = (m: { mail: { subject?: string | undefined } }) => /Confirm your subscription/.test(subject(m));
/** The answer's words, without the markup. */
const words = (body: string) => body.replace(/<[^>]+>/g, '');

async function setUp(t: Test, setup: Setup) {
  const mail = await new MailServer().start();
  t.teardown(() => mail.stop());
  const clock = new ManualClock(T0);
  const replicas = await setup.replicas(t, mail, clock);
  const a = replicas[0]!;
  const b = replicas.at(-1)!;
  /** Every replica's dispatcher at once, a second apart, until none has anything left to send. */
  const drain = async () => {
    for (let n = 0; n < 60; n++) {
      clock.advance(1000);
      const sent = await Promise.all(replicas.map((r) => r.app.triage.dispatcher.tick()));
      if (sent.every((x) => x === 0)) return;
    }
  };
  const logs = () => replicas.map((r) => r.log()).join('\n');
  return { mail, clock, replicas, a, b, drain, logs };
}

for (const setup of SETUPS) {
  t.test(`${setup.name}: confirm, one e-mail per update, one-click unsubscribe, nothing after`, async (t) => {
    const { a, b, mail, drain, logs } = await setUp(t, setup);
    const asked = await a.app.inject({ url: '/status/subscribe', ...form({ email: 'Reader@Example.com' }) });
    t.equal(asked.statusCode, 200);
    t.match(asked.body, /Check your inbox/);
    t.equal(mail.received.length, 0, 'nothing is sent during the request');
    const again = await b.app.inject({ url: '/status/subscribe', ...form({ email: 'reader@example.com' }) });
    t.equal(words(again.body), words(asked.body), 'the same answer for an address already waiting');

    await Promise.all([a.app.triage.scheduler.tick(), b.app.triage.scheduler.tick()]);
    t.equal(mail.received.length, 0, "the scheduler's pass sends no confirmation: the outbox does");
    await drain();
    const confirmations = mail.received.filter(isConfirmation);
    t.equal(confirmations.length, 1, 'one confirmation e-mail, though every dispatcher claimed');
    t.same(confirmations[0]!.rcptTo, ['reader@example.com']);
    t.equal(subject(confirmations[0]!), '[Example status] Confirm your subscription');
    t.match(confirmations[0]!.mail.messageId, /^<status-confirm-\d+@example\.com>$/, 'a Message-ID made from the outbox id');
    const link = /https:\/\/status\.example\.com(\/status\/confirm\/[A-Za-z0-9_-]+)/.exec(confirmations[0]!.mail.text ?? '')?.[1];
    t.ok(link, 'the e-mail carries the confirmation link on the status host');
    t.equal((await a.app.inject({ url: link! })).statusCode, 200, 'a GET only shows the button');
    t.equal((await a.app.triage.store.confirmedSubscribers()).length, 0, 'a link scanner confirms nobody');
    t.match((await b.app.inject({ url: link!, method: 'POST' })).body, /Subscribed/);
    const asSubscribed = await a.app.inject({ url: '/status/subscribe', ...form({ email: 'reader@example.com' }) });
    t.equal(words(asSubscribed.body), words(asked.body), 'the same answer for an address subscribed');
    await drain();
    t.equal(mail.received.filter(isConfirmation).length, 1, 'and no e-mail to it');

    const r = await postWebhook(a.app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { service: 'api' } })]));
    const id = r.json().incident.id as number;
    const incident = (await a.app.triage.store.incidentHead(id, { offset: 0, limit: 1 }))!;
    const carol = { name: 'Carol Diaz', contact: 'carol', via: 'web' as const };
    const post = (state: 'investigating' | 'resolved', message: string) =>
      a.app.triage.status.post(
        incident,
        carol,
        { state, title: 'API errors', message, components: [{ id: 'api', status: state === 'resolved' ? 'operational' : 'major_outage' }] },
        true,
      );
    const updates = () => mail.received.filter((m) => /\[Example status\]/.test(subject(m)) && !isConfirmation(m));

    await post('investigating', 'We are looking into it.');
    await drain();
    t.equal(updates().length, 1, 'the update reached the subscriber once, though every replica claimed');
    const m = updates()[0]!;
    t.equal(subject(m), '[Example status] Investigating: API errors');
    t.same(m.rcptTo, ['reader@example.com']);
    const header = (name: string) => m.mail.headerLines.find((h) => h.key === name)?.line.replace(/^[^:]+:\s*/, '');
    const unsubscribe = /^<(https:\/\/status\.example\.com\/status\/unsubscribe\/[A-Za-z0-9_-]+)>$/.exec(
      header('list-unsubscribe') ?? '',
    )?.[1];
    t.ok(unsubscribe, 'List-Unsubscribe: an https URL');
    t.equal(header('list-unsubscribe-post'), 'List-Unsubscribe=One-Click', 'RFC 8058 one-click');
    t.notMatch(m.mail.text ?? '', /ServiceDown|service=|Carol|carol/, 'nothing internal in the e-mail');
    const timeline = (await api(a.app, 'GET', `/api/incidents/${id}`)).body.timeline as { kind: string; step?: string }[];
    t.notOk(
      timeline.some((e) => e.kind === 'paged' && JSON.stringify(e).includes('status-email')),
      'no delivery entry per subscriber',
    );
    t.notOk(
      timeline.some((e) => e.step === 'Users notified (if applicable)'),
      'not yet: this was no closing update',
    );

    await post('resolved', 'Fixed.');
    await drain();
    t.equal(updates().length, 2, 'the closing update, once');
    const after = (await api(a.app, 'GET', `/api/incidents/${id}`)).body.timeline as { kind: string; step?: string; actor: string }[];
    t.match(
      after.filter((e) => e.step === 'Users notified (if applicable)'),
      [{ kind: 'checklist', actor: 'system', state: 'done' }],
      '"Users notified" ticked once, when the closing update went to subscribers',
    );

    // A mail provider's one-click: a POST without Origin, the body RFC 8058 says.
    const path = new URL(unsubscribe!).pathname;
    const one = await b.app.inject({ url: path, ...form({ 'List-Unsubscribe': 'One-Click' }) });
    t.equal(one.statusCode, 200);
    t.match(one.body, /Unsubscribed/);
    await post('investigating', 'It is back.');
    await drain();
    t.equal(updates().length, 2, 'nothing after unsubscribing');
    t.same(await a.app.triage.store.listSubscribers(), [], 'the address is gone');

    const secrets = [link!.split('/').at(-1)!, path.split('/').at(-1)!];
    t.ok(logs().includes('/status/confirm/[redacted]'), 'the requests are logged');
    t.notOk(
      secrets.some((s) => logs().includes(s)),
      'neither the confirmation nor the unsubscribe secret is in the log',
    );
    t.notMatch(logs(), /reader@example\.com/i, 'nor the address');
  });

  t.test(`${setup.name}: a confirmation the mail server refused is sent again, once, with the same Message-ID`, async (t) => {
    const { a, b, mail, drain, clock } = await setUp(t, setup);
    mail.failData.push(451);
    await a.app.inject({ url: '/status/subscribe', ...form({ email: 'late@example.com' }) });
    await drain(); // a second apart: the retry's backoff (1 s) is over at the next pass
    t.equal(mail.refused.length, 1, 'the first attempt was refused (451)');
    t.equal(mail.received.filter(isConfirmation).length, 1, 'retried and delivered once');
    t.equal(mail.received[0]!.mail.messageId, mail.refused[0]!.mail.messageId, 'the same Message-ID on both attempts');
    t.equal(mail.received[0]!.mail.text, mail.refused[0]!.mail.text, 'the same link');
    clock.advance(60_000);
    await drain();
    t.equal(mail.received.length, 1, 'nothing more');
    const link = /(\/status\/confirm\/[A-Za-z0-9_-]+)/.exec(mail.received[0]!.mail.text ?? '')![1]!;
    t.match((await b.app.inject({ url: link, method: 'POST' })).body, /Subscribed/);
  });

  t.test(`${setup.name}: subscribe requests are limited per client for every replica, and bounded e-mails per address`, async (t) => {
    const { replicas, mail, drain, clock } = await setUp(t, setup);
    const answers = [];
    for (let n = 0; n < 12; n++) {
      const replica = replicas[n % replicas.length]!;
      answers.push(await replica.app.inject({ url: '/status/subscribe', ...form({ email: `reader${n}@example.com` }) }));
    }
    t.same(
      answers.map((r) => r.statusCode),
      [...Array<number>(10).fill(200), 429, 429],
      'ten requests from one client, whichever replica took them',
    );
    t.match(answers[10]!.headers['retry-after'], /^\d+$/);
    const other = await replicas.at(-1)!.app.inject({ url: '/status/subscribe', ...form({ email: 'x@example.com' }, '198.51.100.7') });
    t.equal(other.statusCode, 200, 'another client is not held back');
    const v6 = replicas[0]!.app;
    const fromV6 = [];
    for (let n = 0; n < 11; n++)
      fromV6.push(
        (await v6.inject({ url: '/status/subscribe', ...form({ email: `v6-${n}@example.com` }, `2001:db8:1:2::${n + 1}`) })).statusCode,
      );
    t.equal(fromV6.at(-1), 429, 'the addresses of one IPv6 /64 are one client');
    await drain();
    t.equal(mail.received.length, 10 + 1 + 10, 'one confirmation per request taken');

    // One address asked for again and again, on every replica, over hours: at most 3 e-mails, an hour apart.
    mail.received.length = 0;
    for (let hour = 0; hour < 6; hour++) {
      for (let n = 0; n < 2; n++) {
        const replica = replicas[n % replicas.length]!;
        const r = await replica.app.inject({
          url: '/status/subscribe',
          ...form({ email: 'victim@example.com' }, `192.0.2.${hour * 2 + n}`),
        });
        t.equal(r.statusCode, 200);
      }
      clock.advance(61 * 60_000);
      await drain();
    }
    t.equal(mail.received.filter((m) => m.rcptTo.includes('victim@example.com')).length, 3, 'no confirmation storm');
  });

  t.test(
    `${setup.name}: the scheduler's pass deletes a subscription left unconfirmed for a week, and its e-mail is not sent`,
    async (t) => {
      const { a, b, replicas, mail, drain, clock } = await setUp(t, setup);
      await a.app.inject({ url: '/status/subscribe', ...form({ email: 'kept@example.com' }) });
      await a.app.inject({ url: '/status/subscribe', ...form({ email: 'forgotten@example.com' }) });
      await drain();
      const link = (to: string) =>
        /(\/status\/confirm\/[A-Za-z0-9_-]+)/.exec(mail.received.find((m) => m.rcptTo.includes(to))!.mail.text ?? '')![1]!;
      t.match((await b.app.inject({ url: link('kept@example.com'), method: 'POST' })).body, /Subscribed/);

      clock.advance(6 * DAY);
      // Asked again on day 6: a second e-mail is queued, and the mail server is down when it is due.
      mail.failData.push(451, 451);
      await a.app.inject({ url: '/status/subscribe', ...form({ email: 'forgotten@example.com' }) });
      await drain();
      t.equal(mail.refused.length, 2, 'refused twice; its next try is due in 2 s');
      await Promise.all(replicas.map((r) => r.app.triage.scheduler.tick()));
      t.equal((await a.app.triage.store.listSubscribers()).length, 2, 'not yet a week');

      clock.advance(DAY); // a week after the first request; the retry of the second e-mail is due too
      // A pass before it that fails (here, the heartbeats') does not stop this one.
      for (const r of replicas) r.app.triage.heartbeats.sweep = () => Promise.reject(new Error('a pass that fails'));
      await Promise.all(replicas.map((r) => r.app.triage.scheduler.tick()));
      t.same(
        (await a.app.triage.store.listSubscribers()).map((s) => s.email),
        ['kept@example.com'],
        'the unconfirmed one is deleted by the timed pass, the confirmed one kept',
      );
      await drain();
      t.equal(
        mail.received.filter((m) => m.rcptTo.includes('forgotten@example.com')).length,
        1,
        'the queued e-mail of a deleted subscription is not sent',
      );
      const expired = await a.app.inject({ url: link('forgotten@example.com'), method: 'POST' });
      t.equal(expired.statusCode, 404);
      t.match(expired.body, /expired/);
    },
  );
}

if (!('skip' in db))
  t.test('PostgreSQL, two replicas: a replica that stalls mid-send loses the confirmation to the other, and records nothing', async (t) => {
    const mail = await new MailServer().start();
    t.teardown(() => mail.stop());
    // Replica A's mail server takes the connection and never greets: its send hangs until its timeout.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.teardown(() => {
      for (const s of sockets) s.destroy();
      silent.close();
    });
    const clock = new ManualClock(T0);
    const schema = `status${++schemas}_${process.pid}`;
    const open = () => PostgresStore.open({ url: db.url, schema, poolSize: 4 });
    const port = (silent.address() as { port: number }).port;
    const a = await appOf(t, await open(), { url: `smtp://127.0.0.1:${port}` }, clock, 'replica-a', 1500);
    const b = await appOf(t, await open(), mail, clock, 'replica-b');
    await a.app.inject({ url: '/status/subscribe', ...form({ email: 'stall@example.com' }) });
    const stalled = a.app.triage.dispatcher.tick(); // claims the confirmation; the send hangs
    while (sockets.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    clock.advance(31_000); // A's lease (30 s) has run out
    await b.app.triage.dispatcher.tick();
    t.equal(mail.received.filter(isConfirmation).length, 1, 'B took the confirmation over and sent it');
    await stalled; // A's send times out: its outcome is not its to record any more
    t.match(a.log(), /taken over by another replica/);
    clock.advance(60_000);
    await Promise.all([a.app.triage.dispatcher.tick(), b.app.triage.dispatcher.tick()]);
    t.equal(mail.received.length, 1, 'sent once: A recorded no failure that would send it again');
  });
