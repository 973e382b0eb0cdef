import t from 'tap';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { countingStore, largestRead } from '../../store/counting-store.js';
import { api } from '../../helpers.js';
import { seeded, WebClient } from '../web-client.js';

t.test('acknowledge, resolve, note, checklist and review act as the signed-in user', async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  await c.signIn('carol@example.com');
  await c.get('/incidents/1');
  t.equal((await c.post('/incidents/1/ack', {})).headers.location, '/incidents/1');
  t.equal((await c.post('/incidents/1/notes', { text: 'logs saved' })).headers.location, '/incidents/1#notes');
  t.equal(
    (await c.post('/incidents/1/checklist', { step: 'PRESERVE: save all logs before anything else changes', done: 'on' })).statusCode,
    303,
  );
  t.equal(
    (await c.post('/incidents/1/checklist', { step: 'PRESERVE: save all logs before anything else changes' })).statusCode,
    303,
    'untick',
  );
  t.equal(
    (
      await c.post('/incidents/1/checklist', {
        step: 'ASSESS: what was accessed, since when, and who is affected',
        problem: 'on',
        note: 'no access logs',
      })
    ).statusCode,
    303,
  );
  t.equal(
    (
      await c.post('/incidents/1/review', {
        rootCause: 'expired cert\r\nsecond line',
        impact: 'checkout down 20 min',
        prevention: 'alert on expiry',
      })
    ).statusCode,
    303,
  );
  t.equal(
    (
      await c.post('/incidents/1/review', {
        rootCause: 'expired cert\r\nsecond line',
        impact: 'checkout down 20 min',
        prevention: 'alert on expiry',
      })
    ).statusCode,
    303,
    'the same again',
  );
  t.equal((await c.post('/incidents/1/resolve', {})).statusCode, 303);
  const i = (await api(app, 'GET', '/api/incidents/1')).body;
  t.equal(i.acknowledgedBy, 'Carol Diaz');
  const mine = i.timeline.filter((e: { actor: string }) => e.actor === 'carol');
  t.same(
    mine.map((e: { kind: string; via?: string; state?: string }) => [e.kind, e.via ?? e.state ?? '']),
    [
      ['acknowledged', 'web'],
      ['note', ''],
      ['checklist', 'done'],
      ['checklist', 'undone'],
      ['checklist', 'problem'],
      ['review', ''],
      ['resolved', 'web'],
    ],
    'every action is recorded with the contact as actor; saving the same review twice records it once',
  );
  t.match(mine[4], {
    note: 'no access logs',
    detail: 'Problem: ASSESS: what was accessed, since when, and who is affected: no access logs',
  });
  t.match(mine[5], { rootCause: 'expired cert\nsecond line' });

  const page = (await c.get('/incidents/1')).body;
  t.match(page, /logs saved/);
  t.match(page, /⚠️ problem by carol/);
  t.match(page, /<textarea id="root-cause" name="rootCause"[^>]*>expired cert\nsecond line<\/textarea>/);
  t.notOk(page.includes('>Acknowledge</button>'), 'no Acknowledge once resolved');

  const report = await app.inject({ method: 'GET', url: '/api/incidents/1/report', headers: { authorization: 'Bearer test-api-token' } });
  t.match(report.body, /### Root Cause\nexpired cert\nsecond line/);
  t.match(report.body, /### Impact\ncheckout down 20 min/);
  t.match(report.body, /### Prevention\nalert on expiry/);
  t.match(report.body, /⚠️ ASSESS: what was accessed, since when, and who is affected \(carol, [0-9: -]+UTC\): no access logs/);
  t.match(report.body, /- \[ \] PRESERVE: save all logs before anything else changes/);
});

t.test('a bad form gets a clear 4xx', async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  await c.signIn();
  await c.get('/incidents/1');
  const notAStep = await c.post('/incidents/1/checklist', { step: 'Drop the database', done: 'on' });
  t.equal(notAStep.statusCode, 400);
  t.match(notAStep.body, /is not a step of this incident&#39;s checklist/);
  t.equal(
    (await c.post('/incidents/1/checklist', { step: 'Root cause identified', problem: 'on' })).statusCode,
    400,
    'a problem needs a note',
  );
  t.equal((await c.post('/incidents/1/notes', { text: '   ' })).statusCode, 400);
  t.equal((await c.post('/incidents/1/notes', { text: 'x'.repeat(5000) })).statusCode, 400);
  t.equal((await c.post('/incidents/999/ack', {})).statusCode, 404);
  t.equal((await c.post('/incidents/1/ack', { by: 'mallory' })).statusCode, 400, 'no free-text name');
  await c.post('/incidents/1/resolve', {});
  const conflict = await c.post('/incidents/1/ack', {});
  t.equal(conflict.statusCode, 409);
  t.match(conflict.headers['content-type'], /text\/html/);
});

t.test('a checklist tick reads the same at the 10th and the 1,000th: the incident row, never the timeline', async (t) => {
  const counted = countingStore(new SqliteStore({ path: ':memory:' }));
  const { app } = await seeded(t, { store: counted.store });
  const c = new WebClient(app);
  await c.signIn('carol@example.com');
  await c.get('/incidents/1');
  const step = 'PRESERVE: save all logs before anything else changes';
  const tick = async (n: number) => {
    counted.reset();
    const res = await c.post('/incidents/1/checklist', { step, ...(n % 2 ? { done: 'on' } : {}) });
    t.equal(res.statusCode, 303);
    return counted.calls.map((call) => call.method);
  };
  const reads: string[][] = [];
  for (let n = 1; n <= 1000; n++) {
    const methods = await tick(n);
    if (n === 10 || n === 1000) reads.push(methods);
  }
  t.same(reads[0], ['incident'], 'the 10th tick reads the incident row alone');
  t.same(reads[1], reads[0], 'so does the 1,000th');
  counted.reset();
  const page = (await c.get('/incidents/1')).body;
  t.ok(largestRead(counted.calls) <= 100, 'the page after it reads bounded pages');
  t.match(page, /<li class="step undone">[\s\S]*?PRESERVE: save all logs/, 'the 1,000th tick (an untick) stands');
  t.equal((await counted.store.checklistState(1)).size, 1, 'one row for the step');
});
