import Database from 'better-sqlite3';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { toLabels } from '../../src/classify/labels.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite-migrations.js';
import { openStore } from '../../src/store/open-store.js';
import { decider, groupNotification, incomingAlert, tempDir } from '../helpers.js';
import { storeConformance } from './conformance.js';
import { describeEntry } from '../../src/incidents/timeline-text.js';

t.test('conformance', async (t) => {
  storeConformance(t, async (t) => {
    const store = new SqliteStore({ path: join(tempDir(t), 'c.db') });
    t.teardown(() => store.close());
    return store;
  });
});

const n = groupNotification([incomingAlert('a', 'ServiceDown')]);
const decide = decider;

t.test('durable settings: WAL, migrations recorded', async (t) => {
  const path = join(tempDir(t), 'd.db');
  const store = new SqliteStore({ path });
  await store.applyNotification(n, decide(1000));
  await store.close();
  const db = new Database(path);
  t.teardown(() => db.close());
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
  // Reopening runs no migration twice and keeps the data.
  const again = new SqliteStore({ path });
  t.teardown(() => again.close());
  t.equal((await again.listIncidents({ limit: 5 })).length, 1);
});

t.test('the claim reads each severity as one range of the index outbox_claim, never the whole queue', async (t) => {
  const store = new SqliteStore({ path: ':memory:' });
  t.teardown(() => store.close());
  const { db, stmt } = store as unknown as { db: Database.Database; stmt: { claimPages: Database.Statement } };
  const plan = (
    db.prepare(`EXPLAIN QUERY PLAN ${stmt.claimPages.source}`).all({ now: 1, busy: '[]', limit: 500, owner: 'x', until: 2 }) as {
      detail: string;
    }[]
  ).map((r) => r.detail);
  t.equal(plan.filter((d) => d === 'SEARCH outbox USING INDEX outbox_claim (priority=? AND next_attempt_at<?)').length, 4, plan.join('\n'));
  t.notOk(
    plan.some((d) => /^SCAN outbox\b/.test(d)),
    'no scan of the table',
  );
});

t.test('durability: the WAL is synced off the event loop, and no write is reported before its sync', async (t) => {
  const path = join(tempDir(t), 's.db');
  const store = new SqliteStore({ path });
  t.teardown(() => store.close());
  // Read through the store's own connection: synchronous is per connection.
  const db = (store as unknown as { db: Database.Database }).db;
  t.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL: SQLite does not sync inside COMMIT');

  // Hold every fdatasync until the test lets go, and count them.
  const probe = await open(path, 'r');
  const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
  await probe.close();
  const real = proto.datasync;
  let syncs = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  proto.datasync = async function (this: unknown) {
    syncs++;
    await gate;
    return real.call(this);
  };
  t.teardown(() => {
    proto.datasync = real;
  });
  let reported = false;
  const write = store.applyNotification(n, decide(1000)).then(() => (reported = true));
  const another = store.applyNotification(groupNotification([incomingAlert('b', 'ServiceDown')], { groupKey: 'other' }), decide(1000));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(reported, false, 'committed, but not reported while its WAL sync is pending');
  t.equal((await store.listIncidents({ limit: 5 })).length, 2, 'both committed in one transaction');
  t.equal(syncs, 1, 'one sync for the whole batch');
  // A commit made while that sync runs waits for the next one: the first sync may not have seen it.
  let late = false;
  const third = store
    .applyNotification(groupNotification([incomingAlert('c', 'ServiceDown')], { groupKey: 'third' }), decide(1000))
    .then(() => (late = true));
  await new Promise((r) => setTimeout(r, 50));
  t.equal((await store.listIncidents({ limit: 5 })).length, 3, 'the third is committed');
  let secondGate!: () => void;
  const second = new Promise<void>((resolve) => (secondGate = resolve));
  proto.datasync = async function (this: unknown) {
    syncs++;
    await second;
    return real.call(this);
  };
  release();
  await write;
  await another;
  t.equal(reported, true, 'reported once the sync returned');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(late, false, 'not answered by the sync that began before it');
  t.equal(syncs, 2, 'a second sync began after it');
  secondGate();
  await third;
  t.equal(late, true);

  const inline = new SqliteStore({ path: join(tempDir(t), 'i.db'), durability: 'inline' });
  t.teardown(() => inline.close());
  t.equal((inline as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true }), 2, 'inline: synchronous FULL');
});

t.test('one failing write in a group commit fails alone: the others commit once, nothing of it is kept', async (t) => {
  const store = new SqliteStore({ path: join(tempDir(t), 'g.db') });
  t.teardown(() => store.close());
  // Queued in the same turn: one batch, one transaction.
  const first = store.applyNotification(groupNotification([incomingAlert('a', 'ServiceDown')], { groupKey: 'first' }), decide(1000));
  const failing = store.applyNotification(groupNotification([incomingAlert('b', 'ServiceDown')], { groupKey: 'failing' }), (a, p, m) => {
    // It writes, then throws: what it wrote must be undone, and only that.
    const change = decide(1000)(a, p, m)!;
    if (change.incident.id === null)
      return { ...change, alerts: [...change.alerts, { ...change.alerts[0]!, status: 'bogus' as 'firing' }] };
    return change;
  });
  const third = store.applyNotification(groupNotification([incomingAlert('c', 'ServiceDown')], { groupKey: 'third' }), decide(1000));
  t.ok((await first).change, 'the write before it commits');
  await t.rejects(failing, /CHECK constraint failed/, 'the failing write fails with its own error');
  t.ok((await third).change, 'the write after it commits');
  const all = await store.listIncidents({ limit: 10 });
  t.same(all.map((i) => i.groupKey).sort(), ['first', 'third'], 'nothing of the failing write is kept, and no incident twice');
  t.ok(
    (await store.applyNotification(groupNotification([incomingAlert('d', 'ServiceDown')], { groupKey: 'fourth' }), decide(1000))).change,
  );
  t.equal((await store.listIncidents({ limit: 10 })).length, 3);
});

t.test('a full disk in the middle of a group commit fails the whole batch with 503, and commits none of it', async (t) => {
  const path = join(tempDir(t), 'full.db');
  const store = new SqliteStore({ path });
  t.teardown(() => store.close());
  const db = (store as unknown as { db: Database.Database }).db;
  await store.applyNotification(n, decide(1000));
  // Room for a few more pages only: a small write fits, a large one does not.
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages + 8}`);
  const T0 = 1_800_000_000_000;
  const override = (by: string) => ({ team: null, contact: 'alice', from: T0, to: T0 + 60_000, by, createdAt: T0, covers: null });
  // Queued in the same turn: one batch.
  const writes = [
    store.addOverride(override('first'), 500, T0),
    store.addOverride(override('x'.repeat(1_000_000)), 500, T0),
    store.addOverride(override('third'), 500, T0),
  ];
  for (const [i, w] of writes.entries())
    await t.rejects(w, { name: 'StoreUnavailableError', message: /SQLITE_FULL/ }, `write ${i + 1} is answered 503`);
  db.pragma('max_page_count = 4294967294');
  t.same(await store.overridesAt(T0), [], 'none of the batch was committed, not even the writes around the large one');
  t.ok(await store.addOverride(override('later'), 500, T0), 'with room again, writes go on');

  // A write failing on its own sends the batch to its savepoint run; a full disk there still leaves
  // what was answered and what is stored in agreement.
  db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 8}`);
  const bogus = store.applyNotification(groupNotification([incomingAlert('z', 'ServiceDown')], { groupKey: 'bogus' }), (a, p, m) => {
    const change = decide(1000)(a, p, m)!;
    return { ...change, alerts: change.alerts.map((x) => ({ ...x, status: 'bogus' as 'firing' })) };
  });
  const mixed = [store.addOverride(override('y'.repeat(1_000_000)), 500, T0), store.addOverride(override('small'), 500, T0)];
  // SQLite rolls the whole transaction back at the full disk: the batch fails as a whole, 503.
  for (const w of [bogus, ...mixed] as Promise<unknown>[]) await t.rejects(w, { name: 'StoreUnavailableError', message: /SQLITE_FULL/ });
  db.pragma('max_page_count = 4294967294');
  t.same(
    await store.overridesAt(T0),
    [{ ...override('later'), id: 1 }],
    'none of these three is stored: not the small write after the full disk either',
  );
  t.same(
    (await store.listIncidents({ limit: 10 })).map((i) => i.groupKey),
    [n.groupKey],
    'nor the failing incident',
  );

  // The same, with the full disk met by a multi-row INSERT (60 large alerts): SQLite undoes only that
  // statement and the transaction goes on, so the writes after it would have committed.
  db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 8}`);
  const bogus2 = store.applyNotification(groupNotification([incomingAlert('z', 'ServiceDown')], { groupKey: 'bogus-2' }), (a, p, m) => {
    const change = decide(1000)(a, p, m)!;
    return { ...change, alerts: change.alerts.map((x) => ({ ...x, status: 'bogus' as 'firing' })) };
  });
  const large = Array.from({ length: 60 }, (_, i) => ({
    ...incomingAlert(`large-${i}`, 'ServiceDown'),
    annotations: toLabels({ blob: 'x'.repeat(2000) }),
  }));
  const rows = store.applyNotification(groupNotification(large, { groupKey: 'large' }), decide(1000));
  const after = store.addOverride(override('after'), 500, T0);
  for (const w of [bogus2, rows, after] as Promise<unknown>[])
    await t.rejects(w, { name: 'StoreUnavailableError', message: /SQLITE_FULL/ });
  db.pragma('max_page_count = 4294967294');
  t.same(
    (await store.overridesAt(T0)).map((o) => o.by),
    ['later'],
    'the small write after the multi-row one is not stored either',
  );
  t.same(
    (await store.listIncidents({ limit: 10 })).map((i) => i.groupKey),
    [n.groupKey],
    'nor either incident',
  );
});

t.test('a write that throws something that is no Error still fails alone', async (t) => {
  const store = new SqliteStore({ path: join(tempDir(t), 'odd.db') });
  t.teardown(() => store.close());
  const T0 = 1_800_000_000_000;
  const first = store.applyNotification(groupNotification([incomingAlert('a', 'ServiceDown')], { groupKey: 'first' }), decide(1000));
  const odd = store.applyNotification(groupNotification([incomingAlert('b', 'ServiceDown')], { groupKey: 'odd' }), () => {
    throw undefined;
  });
  const third = store.addOverride(
    { team: null, contact: 'alice', from: T0, to: T0 + 60_000, by: 'third', createdAt: T0, covers: null },
    500,
    T0,
  );
  t.ok((await first).change, 'the write before it commits');
  t.equal(
    await odd.then(
      () => 'committed',
      (err: unknown) => (err === undefined ? 'rejected with what it threw' : err),
    ),
    'rejected with what it threw',
  );
  t.ok(await third, 'the write after it commits');
  t.same(
    (await store.listIncidents({ limit: 10 })).map((i) => i.groupKey),
    ['first'],
  );
});

t.test('the timeline is append-only in the database itself', async (t) => {
  const path = join(tempDir(t), 'a.db');
  const store = new SqliteStore({ path });
  await store.applyNotification(n, decide(1000));
  await store.close();
  const db = new Database(path);
  t.teardown(() => db.close());
  t.throws(() => db.prepare('UPDATE timeline SET data = ?').run('{}'), /append-only/);
  t.throws(() => db.prepare('DELETE FROM timeline').run(), /append-only/);
});

t.test('a locked database is reported as unavailable, not as a bug', async (t) => {
  const path = join(tempDir(t), 'l.db');
  const store = new SqliteStore({ path, lockWaitMs: 300 });
  t.teardown(() => store.close());
  const other = new Database(path);
  t.teardown(() => other.close());
  other.exec('BEGIN EXCLUSIVE');
  // While the write waits for the lock, the event loop is free: timers fire and reads answer.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const write = store.applyNotification(n, decide(1000));
  await t.rejects(store.ping(), { name: 'StoreUnavailableError', message: /SQLITE_BUSY/ }, 'the readiness probe fails too');
  await t.rejects(write, { name: 'StoreUnavailableError', message: /SQLITE_BUSY/ });
  clearInterval(timer);
  t.ok(ticks >= 5, `the process kept running while it waited (${ticks} timer ticks in the wait)`);
  other.exec('ROLLBACK');
  t.ok(await store.applyNotification(n, decide(1000)), 'works again once the lock is gone');
  await store.ping();
});

t.test('a lock that is let go within the wait is waited out: the write lands', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = new SqliteStore({ path, lockWaitMs: 3000 });
  t.teardown(() => store.close());
  const other = new Database(path);
  t.teardown(() => other.close());
  other.exec('BEGIN EXCLUSIVE');
  setTimeout(() => other.exec('ROLLBACK'), 200);
  const outcome = await store.applyNotification(n, decide(1000));
  t.ok(outcome.change, 'committed once the other process let go');
});

t.test('DATABASE_URL', async (t) => {
  const dir = tempDir(t);
  const s = await openStore(`sqlite:${join(dir, 'x.db')}`);
  await s.ping();
  await s.close();
  const err = await openStore('mysql://u:secret@h/db').then(
    () => undefined,
    (e: Error) => e,
  );
  t.match(err?.message, /unknown scheme/);
  t.notMatch(err?.message, /secret/, 'the URL, which may hold a password, is not echoed');
  await t.rejects(openStore('sqlite:'), /needs a file path/);
});

t.test('one process per file: at start, every page left sending comes back, its lease not waited for', async (t) => {
  const path = join(tempDir(t), 'r.db');
  const store = new SqliteStore({ path });
  t.teardown(() => store.close());
  const page = {
    channel: 'slack' as const,
    target: '#a',
    event: 'opened' as const,
    severity: 'high' as const,
    mentions: [],
    recipients: [],
    cause: null,
    at: 1000,
  };
  await store.applyNotification(n, (a, p, m) => ({ ...decide(1000)(a, p, m)!, pages: [page] }));
  await store.claimPages(1000, 10, { owner: 'dead-predecessor', until: 31_000 });
  t.equal(await store.recoverInFlight(2000), 1);
  t.match(await store.claimPages(2000, 10, { owner: 'me', until: 32_000 }), [{ maybeSent: true, attempts: 2 }]);
});

t.test('a database from the first release is migrated in place and keeps its incidents', async (t) => {
  const path = join(tempDir(t), 'old.db');
  const old = new Database(path);
  old.exec(SQLITE_MIGRATIONS[0] as string);
  old.pragma('user_version = 1');
  old
    .prepare(
      `INSERT INTO incidents (key, receiver, group_key, group_labels, external_url, title, severity, rule, status, opened_at, respond_by)
     VALUES ('r/g', 'r', 'g', '{}', '', 'Old one', 'high', 'x', 'open', 1000, 2000)`,
    )
    .run();
  old.close();
  const store = new SqliteStore({ path });
  t.teardown(() => store.close());
  const got = await store.getIncident(1);
  t.match(got, { title: 'Old one', status: 'open', escalationStep: 0, reminders: 0, nextEscalationAt: null });
  t.same(await store.queueDepth(), {});
});

t.test('migration 3 turns the prose timeline and the waiting pages into typed entries', async (t) => {
  const path = join(tempDir(t), 'prose.db');
  const old = new Database(path);
  old.exec(SQLITE_MIGRATIONS[0] as string);
  old.exec(SQLITE_MIGRATIONS[1] as string);
  old.pragma('user_version = 2');
  old
    .prepare(
      `INSERT INTO incidents (key, receiver, group_key, group_labels, external_url, title, severity, rule, status, opened_at, respond_by)
     VALUES ('r/g', 'r', 'g', '{}', '', 'Old one', 'critical', 'x', 'open', 1000, 301000)`,
    )
    .run();
  // Sentences exactly as the previous release wrote them.
  const rows: [string, string][] = [
    ['opened', 'Opened as critical by rule critical-by-name with 2 firing alerts; respond by 2026-11-23T22:13:00.000Z (5m SLA)'],
    ['acknowledged', 'Acknowledged by Alice Martin: from Slack'],
    ['paged', 'Slack #security-incident: opened, mentioning 3'],
    ['page_failed', 'E-mail to carol@example.com: rejected by the mail server'],
    ['resolved', 'something this version never wrote'],
  ];
  const insert = old.prepare(`INSERT INTO timeline (incident_id, at, kind, detail) VALUES (1, ?, ?, ?)`);
  rows.forEach(([kind, detail], i) => insert.run(1000 + i, kind, detail));
  old
    .prepare(
      `INSERT INTO outbox (incident_id, channel, target, event, severity, priority, payload, status, next_attempt_at, created_at)
     VALUES (1, 'slack', '#sec', 'sla_breached', 'critical', 0, ?, 'pending', 5000, 5000)`,
    )
    .run(JSON.stringify({ mentions: ['U1'], recipients: [], note: 'No acknowledgement by 2026-11-23T22:13:00.000Z' }));
  old.close();

  const store = new SqliteStore({ path });
  t.teardown(() => store.close());
  const got = (await store.getIncident(1))!;
  t.same(got.timeline, [
    {
      legacy: true,
      at: 1000,
      actor: 'alertmanager',
      kind: 'opened',
      severity: 'critical',
      rule: 'critical-by-name',
      firing: 2,
      respondBy: Date.parse('2026-11-23T22:13:00Z'),
      slaMs: 300_000,
    },
    { legacy: true, at: 1001, actor: 'Alice Martin', kind: 'acknowledged', by: 'Alice Martin', via: 'slack' },
    {
      legacy: true,
      at: 1002,
      actor: 'system',
      kind: 'paged',
      channel: 'slack',
      target: '#security-incident',
      event: 'opened',
      recipients: ['unknown', 'unknown', 'unknown'],
      outcome: 'sent',
    },
    {
      legacy: true,
      at: 1003,
      actor: 'system',
      kind: 'page_failed',
      channel: 'email',
      target: 'carol@example.com',
      event: 'opened',
      recipients: ['carol@example.com'],
      outcome: 'rejected',
      reason: 'rejected by the mail server',
    },
    { legacy: true, at: 1004, actor: 'system', kind: 'note', text: 'something this version never wrote' },
  ]);
  t.equal(describeEntry(got.timeline[2]!), 'Slack #security-incident: opened, mentioning 3', 'the same words as before');
  const [page] = await store.claimPages(5000, 10, { owner: 'test', until: 35_000 });
  t.same(page!.cause, {
    at: 5000,
    actor: 'system',
    kind: 'sla_breached',
    severity: 'critical',
    respondBy: Date.parse('2026-11-23T22:13:00Z'),
    lateMs: 0,
    legacy: true,
  });
  const db = new Database(path, { readonly: true });
  t.teardown(() => db.close());
  t.throws(() => db.prepare(`SELECT detail FROM timeline`).all(), /no such column/, 'no prose is stored any more');
  t.ok(db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'timeline_incident'`).get(), 'the index is back');
  t.same(
    db.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name`).all(),
    [{ name: 'timeline_append_only_delete' }, { name: 'timeline_append_only_update' }],
    'and the append-only triggers',
  );
  t.same(db.prepare(`SELECT name FROM sqlite_master WHERE name LIKE 'timeline_prose%'`).all(), [], 'the old table is gone');
});

t.test('a failed WAL sync: the batch gets 503, and so does every later write until a restart', async (t) => {
  const path = join(tempDir(t), 'f.db');
  const store = new SqliteStore({ path });
  t.teardown(() => store.close());
  const probe = await open(path, 'r');
  const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
  await probe.close();
  const real = proto.datasync;
  proto.datasync = async () => {
    throw Object.assign(new Error('I/O error'), { code: 'EIO' });
  };
  t.teardown(() => {
    proto.datasync = real;
  });
  await t.rejects(store.applyNotification(n, decide(1000)), { name: 'StoreUnavailableError', message: /EIO/ });
  proto.datasync = real;
  await t.rejects(store.applyNotification(groupNotification([incomingAlert('b', 'ServiceDown')], { groupKey: 'later' }), decide(1000)), {
    name: 'StoreUnavailableError',
    message: /until restarted/,
  });
  await t.rejects(store.ping(), { name: 'StoreUnavailableError' }, 'readiness fails');
  await store.close();
  const again = new SqliteStore({ path });
  t.teardown(() => again.close());
  await again.ping();
  t.ok(
    await again.applyNotification(groupNotification([incomingAlert('c', 'ServiceDown')], { groupKey: 'after' }), decide(1000)),
    'a restart recovers',
  );
});

t.test(
  'overrides are read once per change: an own write is seen at the next read, another connection commit within a second',
  async (t) => {
    const path = join(tempDir(t), 'o.db');
    const store = new SqliteStore({ path });
    t.teardown(() => store.close());
    const T0 = 1_800_000_000_000;
    t.same(await store.overridesAt(T0), []);
    const a = (await store.addOverride(
      { team: null, contact: 'alice', from: T0, to: T0 + 60_000, by: 'api', createdAt: T0, covers: null },
      500,
      T0,
    ))!;
    const later = (await store.addOverride(
      { team: null, contact: 'carol', from: T0 + 30_000, to: T0 + 90_000, by: 'api', createdAt: T0, covers: null },
      500,
      T0,
    ))!;
    t.same(await store.overridesAt(T0), [a], 'its own write');
    t.same(await store.overridesAt(T0 + 10_000), [a], 'the same until the next start');
    t.same(await store.overridesAt(T0 + 30_000), [a, later], 'one that starts is read, not the copy');
    t.same(await store.overridesAt(T0 + 60_000), [later], 'one that ends is gone');
    t.same(await store.overridesAt(T0 + 90_000), [], 'ended by a later time');
    t.equal(await store.deleteOverride(later.id, 'api', T0), true);
    t.same(await store.overridesAt(T0), [a], 'an earlier time after a later one reads again');
    // Another process writing to the same file (the database is shared on disk, not only through this store).
    const other = new Database(path);
    t.teardown(() => other.close());
    other
      .prepare(
        `INSERT INTO oncall_overrides (team, contact, from_ms, until_ms, created_by, created_at) VALUES (NULL, 'bob', ?, ?, 'cli', ?)`,
      )
      .run(T0, T0 + 120_000, T0);
    await new Promise((r) => setTimeout(r, 1100));
    t.same(
      (await store.overridesAt(T0)).map((o) => o.contact),
      ['alice', 'bob'],
      "another connection's commit, within a second",
    );
    t.equal(await store.deleteOverride(a.id, 'api', T0), true);
    t.same(
      (await store.overridesAt(T0)).map((o) => o.contact),
      ['bob'],
      'its own delete',
    );
  },
);

t.test('WAL checkpoints run in a worker between commits, not inside them: the WAL starts over instead of growing', async (t) => {
  const path = join(tempDir(t), 'ck.db');
  // Each checkpoint waited for to its end, however slow the disk: the WAL starts over at each.
  const store = new SqliteStore({ path, checkpointFrames: 50, checkpointPauseMs: 60_000 });
  const probe = new Database(path, { readonly: true });
  t.teardown(() => probe.close());
  t.equal(probe.pragma('wal_autocheckpoint', { simple: true }), 1000, "another connection's own setting");
  const T0 = 1_800_000_000_000;
  const added: number[] = [];
  for (let i = 0; i < 150; i++) {
    // Eight writes a commit, as webhooks arriving together are.
    const batch = await Promise.all(
      Array.from({ length: 8 }, (_, j) =>
        store.addOverride(
          { team: null, contact: `c${i}-${j}`, from: T0, to: T0 + 60_000, by: 'test', createdAt: T0, covers: null },
          1_000_000,
          T0,
        ),
      ),
    );
    added.push(...batch.map((o) => o!.id));
  }
  const wal = await open(`${path}-wal`, 'r');
  const { size } = await wal.stat();
  await wal.close();
  // Without checkpoints, 150 commits of several pages each: about 4.7 MB of WAL (1,000-frame
  // automatic checkpoints: up to 4 MB). Started over every ~50 frames: well under a megabyte.
  t.ok(size < 1_200_000, `the WAL started over and stayed small (${size} bytes)`);
  t.equal(new Set(added).size, 1200, 'every write committed once');
  await store.close();
  const again = new SqliteStore({ path });
  t.teardown(() => again.close());
  t.equal((await again.overridesBetween(T0, T0 + 1)).length, 1200, 'all of them on disk after a restart');
});

t.test(
  "every person's settings are read once per change: an own write at the next read, another connection's commit within a second",
  async (t) => {
    const path = join(tempDir(t), 's.db');
    const store = new SqliteStore({ path });
    t.teardown(() => store.close());
    t.same([...(await store.allContactSettings()).keys()], []);
    await store.updateContactSettings('carol', (s) => ({ settings: { ...s, methods: [{ method: 'sms', address: '+331' }] }, result: 0 }));
    t.same(
      (await store.allContactSettings()).get('carol')?.methods.map((m) => m.address),
      ['+331'],
      'its own write',
    );
    const copy = await store.allContactSettings();
    copy.delete('carol');
    t.same([...(await store.allContactSettings()).keys()], ['carol'], "a caller's change to the map it got is its own");
    const other = new Database(path);
    t.teardown(() => other.close());
    other.prepare(`INSERT INTO contact_settings (contact, settings, version) VALUES ('dan', ?, 1)`).run(JSON.stringify({ methods: [] }));
    await new Promise((r) => setTimeout(r, 1100));
    t.same([...(await store.allContactSettings()).keys()], ['carol', 'dan'], "another connection's commit, within a second");
  },
);

t.test(
  "the bounded-reads migration keeps each checklist step's latest mark from the timeline, and starts every version at 1",
  async (t) => {
    const path = join(tempDir(t), 'before-bounded.db');
    const old = new Database(path);
    // Every migration before the bounded-reads one (later ones may follow it).
    const bounded = SQLITE_MIGRATIONS.findIndex((m) => typeof m === 'string' && m.includes('CREATE TABLE checklist_steps'));
    for (const m of SQLITE_MIGRATIONS.slice(0, bounded)) {
      if (typeof m === 'string') old.exec(m);
      else m(old);
    }
    old.pragma(`user_version = ${bounded}`);
    old
      .prepare(
        `INSERT INTO incidents (key, receiver, group_key, group_labels, external_url, title, severity, rule, status, opened_at, respond_by)
     VALUES ('r/g', 'r', 'g', '{}', '', 'Old one', 'critical', 'x', 'open', 1000, 2000)`,
      )
      .run();
    const entry = old.prepare(`INSERT INTO timeline (incident_id, at, kind, actor, data) VALUES (1, ?, 'checklist', ?, ?)`);
    entry.run(3000, 'lee', JSON.stringify({ step: 'STOP', state: 'done' }));
    entry.run(4000, 'carol', JSON.stringify({ step: 'STOP', state: 'problem', note: 'remote' }));
    entry.run(4000, 'lee', JSON.stringify({ step: 'PRESERVE', state: 'done' }));
    entry.run(5000, 'lee', JSON.stringify({ step: 'PRESERVE', state: 'undone' }));
    old.close();
    const store = new SqliteStore({ path });
    t.teardown(() => store.close());
    t.same(
      await store.checklistState(1),
      new Map([
        ['STOP', { state: 'problem', actor: 'carol', at: 4000, note: 'remote' }],
        ['PRESERVE', { state: 'undone', actor: 'lee', at: 5000 }],
      ]),
    );
    t.equal(await store.incidentVersion(1), 1);
  },
);

t.test('the confirmations migration queues in the outbox the confirmation e-mails a scheduler pass was still to send', async (t) => {
  const path = join(tempDir(t), 'before-confirmations.db');
  const old = new Database(path);
  // Every migration before the one that puts confirmations in the outbox (later ones may follow it).
  const outboxed = SQLITE_MIGRATIONS.findIndex((m) => typeof m === 'string' && m.includes('CREATE TABLE status_subscribe_attempts'));
  for (const m of SQLITE_MIGRATIONS.slice(0, outboxed)) {
    if (typeof m === 'string') old.exec(m);
    else m(old);
  }
  old.pragma(`user_version = ${outboxed}`);
  const add = old.prepare(
    `INSERT INTO status_subscribers (email, confirm_token, unsubscribe_token, created_at, confirmed_at, confirm_due_at, confirm_sent_at, confirm_count)
     VALUES (?, ?, ?, 1000, ?, ?, ?, ?)`,
  );
  add.run('due@example.com', 'c1', 'u1', null, 2000, null, 0);
  add.run('sent@example.com', 'c2', 'u2', null, null, 1500, 1);
  add.run('confirmed@example.com', null, 'u3', 3000, null, 1500, 1);
  old.close();
  const store = new SqliteStore({ path });
  t.teardown(() => store.close());
  const pages = await store.claimPages(5000, 10, { owner: 'a', until: 35_000 });
  t.match(pages, [
    { channel: 'status-email', target: 'confirmations', event: 'notice', subscriber: 1, notice: { kind: 'status_confirmation' } },
  ]);
  t.equal(pages.length, 1, 'only the one that was due');
  t.match(await store.subscriber(1), { confirmSentAt: 2000 });
  t.equal(
    await store.subscribe({
      email: 'due@example.com',
      components: null,
      confirmToken: 'x',
      unsubscribeToken: 'y',
      at: 2001,
      minIntervalMs: 3600_000,
      maxMails: 3,
    }),
    'limited',
    'counted as sent',
  );
});
