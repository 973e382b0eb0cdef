import t from 'tap';
import { addNote } from '../../../src/incidents/incident-machine.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { api, T0 } from '../../helpers.js';
import { countingStore } from '../../store/counting-store.js';
import { seeded, WebClient } from '../web-client.js';

t.test("the list's live version: carried by the page, moved by a change made elsewhere", async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  await c.signIn();
  const v1 = (await c.get('/incidents/live?severity=critical')).json().version;
  t.match(
    (await c.get('/incidents?severity=critical')).body,
    `data-live-url="/incidents/live?severity=critical" data-live-version="${v1}"`,
    'the page carries the version it shows',
  );
  // A change between the render and the script's first poll: the poll's answer differs from the page's.
  await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice' });
  t.not((await c.get('/incidents/live?severity=critical')).json().version, v1, 'the list version moves with a change made elsewhere');
  t.equal((await c.get('/incidents/live?status=closed')).statusCode, 400);
});

t.test("an incident's live version: stable while nothing changes, carried by the page, moved by a change", async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  await c.signIn();
  const page = (await c.get('/incidents/1')).body;
  const live = await c.get('/incidents/1/live');
  t.equal(live.headers['cache-control'], 'no-store');
  const v1 = live.json().version;
  t.equal((await c.get('/incidents/1/live')).json().version, v1, 'stable while nothing changes');
  t.match(page, `data-live-url="/incidents/1/live" data-live-version="${v1}"`, 'the page carries the version it shows');
  await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice' });
  t.not((await c.get('/incidents/1/live')).json().version, v1);
  t.equal((await c.get('/incidents/999/live')).statusCode, 404);
  t.equal((await new WebClient(app).get('/incidents/1/live')).statusCode, 303, 'signed out: to sign-in, like the pages');
});

t.test("an incident's live poll reads its version alone, and answers 304 without a body while it stands", async (t) => {
  const counted = countingStore(new SqliteStore({ path: ':memory:' }));
  const { app } = await seeded(t, { store: counted.store });
  const c = new WebClient(app);
  await c.signIn();
  const lee = { name: 'Lee', via: 'api' } as const;
  for (let n = 0; n < 300; n++) await counted.store.updateIncident(1, (i) => addNote(i, lee, `note ${n}`, T0 + n));
  counted.reset();
  const first = await c.get('/incidents/1/live');
  const version = first.json<{ version: string }>().version;
  t.equal(first.headers['etag'], `"${version}"`);
  t.same(
    counted.calls.map((call) => call.method),
    ['incidentVersion'],
    'one row: no alert, no timeline entry',
  );
  const same = await c.get('/incidents/1/live', { 'if-none-match': `"${version}"` });
  t.equal(same.statusCode, 304);
  t.equal(same.body, '');
  await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice' });
  const moved = await c.get('/incidents/1/live', { 'if-none-match': `"${version}"` });
  t.equal(moved.statusCode, 200, 'a change: the new version');
  t.not(moved.json<{ version: string }>().version, version);
});
