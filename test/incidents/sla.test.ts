import t from 'tap';
import { ManualClock } from '../../src/clock.js';
import { alert, api, makeApp, metric, payload, postWebhook, T0, uniqueGroup } from '../helpers.js';

const MIN = 60_000;

t.test('the scheduler marks a missed deadline once: timeline, counter and gauge', async (t) => {
  const { app, clock } = await makeApp(t);
  await postWebhook(app, payload(uniqueGroup(), [alert('DDoSAttack')])); // critical, 5m
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')])); // high, 1h
  clock.advance(4 * MIN);
  t.equal(await app.triage.scheduler.tick(), 0, 'not yet');
  t.equal(await metric(app, 'triage_incidents_breached_open{severity="critical"}'), 0);
  clock.advance(MIN);
  t.equal(await app.triage.scheduler.tick(), 1);
  t.equal(await app.triage.scheduler.tick(), 0, 'only once');
  const got = (await api(app, 'GET', '/api/incidents/1')).body;
  t.equal(got.slaBreached, true);
  t.match(
    got.timeline.find((e: { kind: string }) => e.kind === 'sla_breached'),
    { kind: 'sla_breached', at: '2026-11-23T22:13:00.000Z' },
  );
  t.equal((await api(app, 'GET', '/api/incidents/2')).body.slaBreached, false);
  t.equal(await metric(app, 'triage_sla_breaches_total{severity="critical"}'), 1);
  t.equal(await metric(app, 'triage_incidents_breached_open{severity="critical"}'), 1);
  t.equal(await metric(app, 'triage_incidents_breached_open{severity="high"}'), 0);
  // A late acknowledgement takes it off the "past deadline, nobody on it" gauge, but it stays breached.
  await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice' });
  t.equal(await metric(app, 'triage_incidents_breached_open{severity="critical"}'), 0);
  t.equal((await api(app, 'GET', '/api/incidents/1')).body.slaBreached, true);
  t.equal(await metric(app, 'triage_sla_breaches_total{severity="critical"}'), 1);
});

t.test('an acknowledgement in time keeps the SLA', async (t) => {
  const { app, clock } = await makeApp(t);
  await postWebhook(app, payload(uniqueGroup(), [alert('DDoSAttack')]));
  clock.advance(4 * MIN);
  await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice' });
  clock.advance(60 * MIN);
  t.equal(await app.triage.scheduler.tick(), 0);
  t.equal((await api(app, 'GET', '/api/incidents/1')).body.slaBreached, false);
  t.equal(await metric(app, 'triage_sla_breaches_total{severity="critical"}'), 0);
});

t.test('after a restart, a deadline that passed while the service was down is found at startup', async (t) => {
  const clock = new ManualClock(T0);
  const first = await makeApp(t, { clock });
  await postWebhook(first.app, payload(uniqueGroup(), [alert('DDoSAttack')]));
  await postWebhook(first.app, payload(uniqueGroup(), [alert('SlowAPI')]));
  await postWebhook(first.app, payload(uniqueGroup(), [alert('ServiceDown')]));
  await api(first.app, 'POST', '/api/incidents/3/resolve', { by: 'alice' });
  await first.app.close();

  clock.advance(2 * 60 * MIN); // down for two hours
  const second = await makeApp(t, { clock, dbPath: first.dbPath });
  // No tick by the test: the app sweeps before it reports ready.
  const got = (await api(second.app, 'GET', '/api/incidents/1')).body;
  t.equal(got.slaBreached, true);
  t.match(
    got.timeline.find((e: { kind: string }) => e.kind === 'sla_breached'),
    { kind: 'sla_breached', at: '2026-11-23T22:13:00.000Z', detail: /detected 1h55m late/ },
  );
  t.equal((await api(second.app, 'GET', '/api/incidents/2')).body.slaBreached, false, 'the low one has 24h');
  // Gauges come from the store, not from the memory of the first process.
  t.equal(await metric(second.app, 'triage_incidents_open{severity="critical"}'), 1);
  t.equal(await metric(second.app, 'triage_incidents_open{severity="low"}'), 1);
  t.equal(await metric(second.app, 'triage_incidents_open{severity="high"}'), 0);
  t.equal(await metric(second.app, 'triage_incidents_breached_open{severity="critical"}'), 1);
  t.equal(await metric(second.app, 'triage_sla_breaches_total{severity="critical"}'), 1);
});

t.test('the scheduler loop runs by itself on its interval', async (t) => {
  const { app, clock } = await makeApp(t);
  await postWebhook(app, payload(uniqueGroup(), [alert('DDoSAttack')]));
  clock.advance(10 * MIN);
  // The shipped interval is 5s; wait for the loop rather than ticking by hand.
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && !(await api(app, 'GET', '/api/incidents/1')).body.slaBreached) {
    await new Promise((r) => setTimeout(r, 200));
  }
  t.equal((await api(app, 'GET', '/api/incidents/1')).body.slaBreached, true);
});

t.test('a storm of deadlines is swept in chunks, every one of them in one pass', async (t) => {
  const { app, clock } = await makeApp(t);
  const posts: Promise<unknown>[] = [];
  for (let i = 0; i < 1201; i++)
    posts.push(postWebhook(app, payload(`{}:{storm="${i}"}`, [alert('DDoSAttack', { labels: { instance: `i-${i}` } })])));
  await Promise.all(posts);
  clock.advance(5 * MIN);
  t.equal(await app.triage.scheduler.tick(), 1201, 'three chunks of at most 500, one pass');
  t.equal(await metric(app, 'triage_sla_breaches_total{severity="critical"}'), 1201);
  t.equal(await metric(app, 'triage_incidents_breached_open{severity="critical"}'), 1201);
  t.equal(await app.triage.scheduler.tick(), 0);
});
