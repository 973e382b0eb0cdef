import pg from 'pg';
import t, { type Test } from 'tap';
import { acknowledge, sweepBreach } from '../../src/incidents/incident-machine.js';
import type { PageRequest } from '../../src/incidents/page.js';
import { severityRank, type Severity } from '../../src/classify/severity.js';
import { openStore } from '../../src/store/open-store.js';
import { oncallRecords, type Statement } from '../../src/store/oncall-records.js';
import { PG_MIGRATIONS } from '../../src/store/postgres-migrations.js';
import { PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres-store.js';
import { decider, groupNotification, incomingAlert, T0 } from '../helpers.js';
import { storeConformance } from './conformance.js';
import { testDatabase } from './postgres-test-db.js';

const db = await testDatabase(t);
if ('skip' in db) {
  t.plan(0, db.skip);
} else {
  const url = db.url;
  let schemas = 0;
  /** A schema no other case uses: each case starts from an empty database. */
  const freshSchema = () => `s${++schemas}`;
  const open = async (tt: Test, options: Partial<PostgresStoreOptions> = {}) => {
    const store = await PostgresStore.open({ url, poolSize: 4, ...options });
    tt.teardown(() => store.close());
    return store;
  };
  /** A plain client in `schema`, for what the store never does (tamper, inject faults, look). */
  const raw = async (tt: Test, schema: string) => {
    const c = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await c.connect();
    tt.teardown(() => c.end());
    return c;
  };
  /** A fresh schema with every migration before the first whose text contains `marker`, and a plain client in it. */
  const migratedUpTo = async (tt: Test, marker: string) => {
    const schema = freshSchema();
    const c = await raw(tt, schema);
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.query(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const upTo = PG_MIGRATIONS.findIndex((m) => m.includes(marker));
    if (upTo < 0) throw new Error(`no migration contains ${marker}`);
    for (const [v, m] of PG_MIGRATIONS.slice(0, upTo).entries()) {
      await c.query(m);
      await c.query(`INSERT INTO schema_migrations (version) VALUES ($1)`, [v + 1]);
    }
    return { schema, c };
  };
  const n = (fp: string, key = 'g') => groupNotification([incomingAlert(fp, 'ServiceDown')], { groupKey: key });

  t.test('conformance', async (t) => {
    storeConformance(t, (tt) => open(tt, { schema: freshSchema() }));
  });

  t.test('the overrides in force at an instant are read by index: 10,000 planned ahead are not scanned', async (t) => {
    const schema = freshSchema();
    const store = await open(t, { schema });
    const c = await raw(t, schema);
    // 10,000 overrides of the hostile tester, each an hour, one after the other, all in the future.
    await c.query(
      `INSERT INTO oncall_overrides (team, contact, from_ms, until_ms, created_by, created_at)
       SELECT 'payments', 'bob', $1::bigint + i::bigint * 3600000, $1::bigint + (i::bigint + 1) * 3600000, 'api', $1::bigint FROM generate_series(1, 10000) AS i`,
      [T0],
    );
    await c.query('ANALYZE oncall_overrides');
    const { sql } = oncallRecords((k) => `$${k}`)
      .overridesAt(T0)
      .next().value as Statement;
    const plan = (await c.query(`EXPLAIN ${sql}`, [T0])).rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
    t.match(plan, /Index (Only )?Scan|Bitmap Index Scan/, plan);
    t.notMatch(plan, /Seq Scan/, 'not the whole table');
    t.same(await store.overridesAt(T0), [], 'none in force yet');
    t.equal((await store.overridesAt(T0 + 3600000 * 5 + 1)).length, 1, 'one in force an hour in');
  });

  t.test('migrations are recorded once; reopening runs none again and keeps the data', async (t) => {
    const schema = freshSchema();
    const first = await PostgresStore.open({ url, schema });
    await first.applyNotification(n('a'), decider(T0));
    await first.close();
    await first.close(); // twice is harmless
    const again = await open(t, { schema });
    t.equal((await again.listIncidents({ limit: 5 })).length, 1);
    const c = await raw(t, schema);
    t.same(
      (await c.query(`SELECT version FROM schema_migrations ORDER BY version`)).rows.map((r) => r.version),
      PG_MIGRATIONS.map((_, i) => i + 1),
    );
  });

  t.test('the confirmations migration queues in the outbox the confirmation e-mails a scheduler pass was still to send', async (t) => {
    // Every migration before the one that puts confirmations in the outbox (later ones may follow it).
    const { schema, c } = await migratedUpTo(t, 'CREATE TABLE status_subscribe_attempts');
    const add = (row: unknown[]) =>
      c.query(
        `INSERT INTO status_subscribers (email, confirm_token, unsubscribe_token, created_at, confirmed_at, confirm_due_at, confirm_sent_at, confirm_count)
         VALUES ($1, $2, $3, 1000, $4, $5, $6, $7)`,
        row,
      );
    await add(['due@example.com', 'c1', 'u1', null, 2000, null, 0]);
    await add(['sent@example.com', 'c2', 'u2', null, null, 1500, 1]);
    await add(['confirmed@example.com', null, 'u3', 3000, null, 1500, 1]);
    const store = await open(t, { schema });
    const pages = await store.claimPages(5000, 10, { owner: 'a', until: 35_000 });
    t.match(pages, [
      { channel: 'status-email', target: 'confirmations', event: 'notice', subscriber: 1, notice: { kind: 'status_confirmation' } },
    ]);
    t.equal(pages.length, 1, 'only the one that was due');
    t.match(await store.subscriber(1), { confirmSentAt: 2000 });
  });

  t.test(
    "the bounded-reads migration keeps each checklist step's latest mark from the timeline, and starts every version at 1",
    async (t) => {
      // Every migration before the bounded-reads one (later ones may follow it).
      const { schema, c } = await migratedUpTo(t, 'CREATE TABLE checklist_steps');
      await c.query(
        `INSERT INTO incidents (key, receiver, group_key, group_labels, external_url, title, severity, rule, status, opened_at, respond_by)
       VALUES ('r/g', 'r', 'g', '{}', '', 'Old one', 'critical', 'x', 'open', 1000, 2000)`,
      );
      for (const [at, actor, data] of [
        [3000, 'lee', { step: 'STOP', state: 'done' }],
        [4000, 'carol', { step: 'STOP', state: 'problem', note: 'remote' }],
        [4000, 'lee', { step: 'PRESERVE', state: 'done' }],
        [5000, 'lee', { step: 'PRESERVE', state: 'undone' }],
      ] as const) {
        await c.query(`INSERT INTO timeline (incident_id, at, kind, actor, data) VALUES (1, $1, 'checklist', $2, $3)`, [at, actor, data]);
      }
      const store = await open(t, { schema });
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
  t.test('two replicas share sessions: a sign-in on one is seen by the other, and a sign-out on either ends it on both', async (t) => {
    const schema = freshSchema();
    const a = await open(t, { schema });
    const b = await open(t, { schema });
    const carol = { key: 'carol', contact: 'carol', name: 'Carol', email: null, groups: [] };
    await a.createSession({ idHash: 'x', person: carol, via: 'oidc', createdAt: T0, expiresAt: T0 + 3600_000, userAgent: null });
    t.equal((await b.getSession('x', T0 + 1))?.person.name, 'Carol', 'seen by the other replica');
    t.equal(await b.endSession('x'), true, 'signed out on the other replica');
    t.equal(await a.getSession('x', T0 + 1), undefined, 'and ended on the first');
    const token = await b.createApiToken({ prefix: 'tri_1', hash: 'hh', person: carol, label: 'cli', createdAt: T0 });
    t.equal((await a.apiTokenByHash('hh'))?.id, token.id, 'a token made on one replica works on the other');
    await a.revokeApiToken(token.id);
    t.equal(await b.apiTokenByHash('hh'), undefined, 'and its revocation too');
  });

  t.test('replicas starting together on an empty database all come up', async (t) => {
    const schema = freshSchema();
    const stores = await Promise.all(Array.from({ length: 5 }, () => PostgresStore.open({ url, schema, poolSize: 2 })));
    t.teardown(() => Promise.all(stores.map((s) => s.close())));
    for (const s of stores) await s.ping();
    const c = await raw(t, schema);
    t.equal((await c.query(`SELECT count(*)::int AS n FROM schema_migrations`)).rows[0].n, PG_MIGRATIONS.length, 'each migration ran once');
  });

  t.test('a schema newer than the code refuses to start, saying why', async (t) => {
    const schema = freshSchema();
    await (await PostgresStore.open({ url, schema })).close();
    const c = await raw(t, schema);
    await c.query(`INSERT INTO schema_migrations (version) VALUES ($1)`, [PG_MIGRATIONS.length + 1]);
    await t.rejects(PostgresStore.open({ url, schema }), {
      name: 'SchemaTooNewError',
      message: /schema is at version \d+, but this alert-triage knows versions up to \d+/,
    });
  });

  t.test('the timeline is append-only in the database itself', async (t) => {
    const schema = freshSchema();
    const store = await open(t, { schema });
    await store.applyNotification(n('a'), decider(T0));
    const c = await raw(t, schema);
    await t.rejects(c.query(`UPDATE timeline SET actor = 'x'`), /append-only/);
    await t.rejects(c.query(`DELETE FROM timeline`), /append-only/);
    await t.rejects(c.query(`TRUNCATE timeline`), /append-only/);
  });

  t.test('the same new group from two replicas at once: one incident with every alert', async (t) => {
    const schema = freshSchema();
    const [a, b] = [await open(t, { schema }), await open(t, { schema })];
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).applyNotification(n(`fp${i}`), decider(T0 + i))),
    );
    const ids = new Set(results.map((r) => r.incident!.id));
    t.equal(ids.size, 1, 'one incident');
    t.same(await a.listIncidents({ limit: 10 }).then((l) => l.length), 1);
    const got = (await b.getIncident([...ids][0]!))!;
    t.equal(got.alertCount, 24, 'no alert lost');
    t.equal(got.timeline.filter((e) => e.kind === 'opened').length, 1, 'opened once');
  });

  t.test('a Critical that arrives behind 500 waiting Lows is in the first batch; a group keeps its order', async (t) => {
    // poolSize 2: one batch (of 64) at a time, so the order of the batches is the order of the decisions.
    const store = await open(t, { schema: freshSchema(), poolSize: 2 });
    const decided: string[] = [];
    const stored: string[] = [];
    const apply = (name: string, fp: string, key: string, severity: Severity) => {
      const decide = decider(T0);
      return store
        .applyNotification(
          n(fp, key),
          (active, previous, notification) => {
            decided.push(name);
            return decide(active, previous, notification);
          },
          () => severityRank(severity),
        )
        .then((r) => {
          stored.push(name);
          return r;
        });
    };
    // All in one turn, as a storm's webhooks reach the group commit: 500 Lows, then a Critical, then
    // a Critical for the first Low's group, which must not overtake that group's Low.
    const lows = Array.from({ length: 500 }, (_, i) => apply(`low-${i}`, `l${i}`, `low-${i}`, 'low'));
    const critical = apply('critical', 'c1', 'edge', 'critical');
    const sameGroup = apply('low-0 critical', 'l0-again', 'low-0', 'critical');
    const results = await Promise.all([...lows, critical, sameGroup]);
    t.equal(decided[0], 'critical', 'the Critical decided first');
    t.ok(stored.indexOf('critical') < 64, `the Critical stored with the first batch (number ${stored.indexOf('critical') + 1} of 502)`);
    t.ok(decided.indexOf('low-0 critical') > decided.indexOf('low-0'), "the group's Critical decided after its Low");
    t.equal(decided.length, 502, 'every notification decided once');
    t.equal(new Set(results.map((r) => r.incident!.id)).size, 501, 'every group stored');
  });

  t.test('an acknowledgement racing notifications on another replica is not lost, nor are the alerts', async (t) => {
    const schema = freshSchema();
    const [a, b] = [await open(t, { schema }), await open(t, { schema })];
    const id = (await a.applyNotification(n('first'), decider(T0))).incident!.id;
    await Promise.all([
      ...Array.from({ length: 12 }, (_, i) => a.applyNotification(n(`fp${i}`), decider(T0 + i))),
      b.updateIncident(id, (i) => acknowledge(i, { name: 'alice', via: 'api' }, undefined, T0 + 5)),
    ]);
    const got = (await b.getIncident(id))!;
    t.equal(got.status, 'acknowledged');
    t.equal(got.alertCount, 13);
  });

  t.test('concurrent claims from two replicas never hand one page to two claimers', async (t) => {
    const schema = freshSchema();
    const [a, b] = [await open(t, { schema }), await open(t, { schema })];
    const page = (i: number): PageRequest => ({
      channel: 'slack',
      target: `#c${i}`,
      event: 'opened',
      severity: 'high',
      mentions: [],
      recipients: [],
      cause: null,
      at: T0,
    });
    await a.applyNotification(n('a'), (x, p, m) => ({ ...decider(T0)(x, p, m)!, pages: Array.from({ length: 60 }, (_, i) => page(i)) }));
    const claimed: number[] = [];
    const claimer = async (s: PostgresStore) => {
      const lease = { owner: `claimer-${Math.random()}`, until: T0 + 30_000 };
      for (let got = await s.claimPages(T0, 3, lease); got.length > 0; got = await s.claimPages(T0, 3, lease))
        claimed.push(...got.map((p) => p.id));
    };
    await Promise.all([claimer(a), claimer(a), claimer(b), claimer(b)]);
    t.equal(claimed.length, 60, 'every page claimed');
    t.equal(new Set(claimed).size, 60, 'none twice');
  });

  t.test('a starting replica recovers only the pages whose lease ran out, never a live one', async (t) => {
    const schema = freshSchema();
    const [a, b] = [await open(t, { schema }), await open(t, { schema })];
    const page: PageRequest = {
      channel: 'email',
      target: 'a@x',
      event: 'opened',
      severity: 'high',
      mentions: [],
      recipients: ['a@x'],
      cause: null,
      at: T0,
    };
    await a.applyNotification(n('a'), (x, p, m) => ({ ...decider(T0)(x, p, m)!, pages: [page, { ...page, target: 'b@x' }] }));
    const [live, dead] = await a.claimPages(T0, 10, { owner: 'a', until: T0 + 30_000 });
    await a.renewLeases('a', T0 + 60_000);
    t.same(await b.claimPages(T0 + 1, 10, { owner: 'b', until: T0 + 30_000 }), [], "both are a's while their leases hold");
    const c = await raw(t, schema);
    await c.query(`UPDATE outbox SET claimed_by = 'gone', lease_until = $1 WHERE id = $2`, [T0 + 30_000, dead!.id]);
    t.equal(await b.recoverInFlight(T0 + 30_000), 1, "the dead replica's page");
    t.match(await b.claimPages(T0 + 30_000, 10, { owner: 'b', until: T0 + 60_000 }), [{ id: dead!.id, maybeSent: true }]);
    t.equal(
      await a.completePage(live!.id, { status: 'sent', externalRef: 'm1' }, T0 + 40_000, 'a'),
      true,
      'the live one stayed with its sender',
    );
  });

  t.test('a page a release before leases left sending gets a lease from the first claim, and is taken over when it runs out', async (t) => {
    const schema = freshSchema();
    const store = await open(t, { schema });
    const page: PageRequest = {
      channel: 'slack',
      target: '#a',
      event: 'opened',
      severity: 'high',
      mentions: [],
      recipients: [],
      cause: null,
      at: T0,
    };
    await store.applyNotification(n('a'), (x, p, m) => ({ ...decider(T0)(x, p, m)!, pages: [page] }));
    const c = await raw(t, schema);
    // What the previous release's claim wrote: sending, no owner, no lease.
    await c.query(`UPDATE outbox SET status = 'sending', attempts = 1`);
    t.same(
      await store.claimPages(T0, 10, { owner: 'new', until: T0 + 30_000 }),
      [],
      'not taken at once: the old replica may be sending it',
    );
    t.equal((await c.query(`SELECT lease_until FROM outbox`)).rows[0].lease_until, String(T0 + 30_000), 'but given a lease');
    t.match(
      await store.claimPages(T0 + 30_000, 10, { owner: 'new', until: T0 + 60_000 }),
      [{ maybeSent: true, attempts: 2 }],
      'taken over when it runs out',
    );
  });

  t.test('two replicas pacing one Slack channel at once take turns: no next-free time is lost', async (t) => {
    const schema = freshSchema();
    const [a, b] = [await open(t, { schema }), await open(t, { schema })];
    const seen = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).paceChannel('#incidents', (n) => ({ nextFree: n + 1100, result: n }))),
    );
    t.same(
      [...seen].sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i * 1100),
      'each saw the one before it',
    );
    t.equal(await a.paceChannel('#incidents', (n) => ({ nextFree: n, result: n })), 22_000);
  });

  t.test('a running replica survives a newer release adding a column: its prepared statements are made again', async (t) => {
    const schema = freshSchema();
    const store = await open(t, { schema, poolSize: 1 });
    await store.applyNotification(n('a'), decider(T0));
    t.ok(await store.getIncident(1), 'statements prepared on the one connection');
    const c = await raw(t, schema);
    await c.query(`ALTER TABLE incidents ADD COLUMN added_by_a_newer_release TEXT`);
    await c.query(`ALTER TABLE alerts ADD COLUMN added_by_a_newer_release TEXT`);
    const again = await store.applyNotification(n('b'), decider(T0 + 1));
    t.equal(again.incident?.id, 1, 'the group is read again');
    t.equal((await store.getIncident(1))!.alertCount, 2);
    t.equal((await store.listIncidents({ limit: 5 })).length, 1);
  });

  t.test('sweeps on two replicas at once record each breach once', async (t) => {
    const schema = freshSchema();
    const [a, b] = [await open(t, { schema }), await open(t, { schema })];
    for (let i = 0; i < 10; i++)
      await a.applyNotification(groupNotification([incomingAlert('x', 'DDoSAttack')], { groupKey: `k${i}` }), decider(T0));
    const now = T0 + 60 * 60_000;
    const swept = await Promise.all([a, b, a, b].map((s) => s.sweepOverdue(now, (i) => sweepBreach(i, now))));
    t.equal(swept.flat().length, 10);
    const c = await raw(t, schema);
    t.equal((await c.query(`SELECT count(*)::int AS n FROM timeline WHERE kind = 'sla_breached'`)).rows[0].n, 10);
  });

  t.test('serialization failures and deadlocks are retried inside the store; endless ones are 503', async (t) => {
    const schema = freshSchema();
    const store = await open(t, { schema });
    const c = await raw(t, schema);
    // nextval is not rolled back with the transaction: the first calls fail, a later one passes.
    await c.query(`CREATE SEQUENCE faults`);
    await c.query(`CREATE TABLE fault_plan (code text, times int)`);
    await c.query(`CREATE FUNCTION inject() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE p fault_plan; BEGIN
        SELECT * INTO p FROM fault_plan LIMIT 1;
        IF p.code IS NOT NULL AND nextval('faults') <= p.times THEN RAISE EXCEPTION 'injected' USING ERRCODE = p.code; END IF;
        RETURN NEW;
      END $$`);
    await c.query(`CREATE TRIGGER inject BEFORE INSERT ON incidents FOR EACH ROW EXECUTE FUNCTION inject()`);
    await c.query(`INSERT INTO fault_plan VALUES ('40001', 2)`);
    t.ok((await store.applyNotification(n('a', 'g1'), decider(T0))).change, 'passes after two serialization failures');
    await c.query(`UPDATE fault_plan SET code = '40P01', times = 4; ALTER SEQUENCE faults RESTART`);
    t.ok((await store.applyNotification(n('a', 'g2'), decider(T0))).change, 'passes after two deadlocks');
    await c.query(`UPDATE fault_plan SET code = '40P01', times = 1000; ALTER SEQUENCE faults RESTART`);
    await t.rejects(store.applyNotification(n('a', 'g3'), decider(T0)), { name: 'StoreUnavailableError', message: /40P01/ });
    await c.query(`UPDATE fault_plan SET code = '23514', times = 1000; ALTER SEQUENCE faults RESTART`);
    await t.rejects(store.applyNotification(n('a', 'g4'), decider(T0)), { code: '23514' }, 'a data error is not retried nor disguised');
    t.equal(Number((await c.query(`SELECT last_value FROM faults`)).rows[0].last_value), 1, 'it ran once');
  });

  t.test('a statement timeout is 503', async (t) => {
    const schema = freshSchema();
    const store = await open(t, { schema, statementTimeoutMs: 200 });
    const c = await raw(t, schema);
    await c.query(`CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(2); RETURN NEW; END $$`);
    await c.query(`CREATE TRIGGER slow BEFORE INSERT ON incidents FOR EACH ROW EXECUTE FUNCTION slow()`);
    await t.rejects(store.applyNotification(n('a'), decider(T0)), { name: 'StoreUnavailableError', message: /57014/ });
    t.same(await store.listIncidents({ limit: 5 }), [], 'nothing half-written');
  });

  t.test('a read-only database (a hot standby) is 503, and /readyz would fail', async (t) => {
    const schema = freshSchema();
    await (await PostgresStore.open({ url, schema })).close();
    const ro = new URL(url);
    ro.searchParams.set('options', '-c default_transaction_read_only=on');
    const store = await open(t, { url: ro.toString(), schema });
    await t.rejects(store.applyNotification(n('a'), decider(T0)), { name: 'StoreUnavailableError', message: /25006/ });
    await t.rejects(store.ping(), { name: 'StoreUnavailableError', message: /read-only/ });
    t.same(await store.listIncidents({ limit: 5 }), [], 'reads still work');
  });

  t.test('connections the server drops are replaced without a restart', async (t) => {
    const schema = freshSchema();
    const store = await open(t, { schema });
    await store.applyNotification(n('a'), decider(T0));
    const c = await raw(t, schema);
    const killed = await c.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'alert-triage'`,
    );
    t.ok(killed.rowCount! > 0, 'the pool had connections');
    await new Promise((r) => setTimeout(r, 100));
    t.ok((await store.applyNotification(n('b'), decider(T0 + 1))).incident, 'writes again');
    await store.ping();
  });

  t.test('committed pages wake every replica (LISTEN/NOTIFY), also after its listening connection was dropped', async (t) => {
    const schema = freshSchema();
    const [a, b] = [await open(t, { schema }), await open(t, { schema })];
    let woken = 0;
    const told: unknown[] = [];
    b.onPagesCommitted((targets) => {
      woken++;
      told.push(targets);
    });
    const until = async (what: string, ok: () => boolean) => {
      for (const deadline = Date.now() + 5_000; !ok(); await new Promise((r) => setTimeout(r, 10))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      }
    };
    await until('the listener', () => woken === 1); // it wakes once when it starts listening
    const page = (notSent?: string): PageRequest => ({
      channel: 'slack',
      target: '#x',
      event: 'opened',
      severity: 'high',
      mentions: [],
      recipients: [],
      cause: null,
      at: T0,
      ...(notSent ? { notSent } : {}),
    });
    await a.applyNotification(n('a', 'quiet'), (x, p, m) => ({ ...decider(T0)(x, p, m)!, pages: [page('not configured')] }));
    await a.applyNotification(n('a', 'loud'), (x, p, m) => ({ ...decider(T0)(x, p, m)!, pages: [page()] }));
    await until('the notification', () => woken === 2);
    t.same(told[1], [{ channel: 'slack', target: '#x' }], 'naming where the pages go (a dispatcher busy with them need not claim)');
    await a
      .applyNotification(n('a', 'boom'), () => {
        throw new Error('rolled back');
      })
      .catch(() => {});
    const c = await raw(t, schema);
    await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`);
    await until('the listener again', () => woken === 3);
    await a.applyNotification(n('a', 'again'), (x, p, m) => ({ ...decider(T0)(x, p, m)!, pages: [page()] }));
    await until('the notification after the reconnect', () => woken === 4);
    await new Promise((r) => setTimeout(r, 200));
    t.equal(woken, 4, 'a page not to send, and a rolled-back one, woke nobody');
  });

  t.test(
    "what every decision reads is a copy: dropped by any replica's change at once (NOTIFY), read afresh while not listening",
    async (t) => {
      const schema = freshSchema();
      // Copies that would last a minute: whatever is seen sooner came by the notification.
      const a = await open(t, { schema });
      const b = await open(t, { schema, factsMaxAgeMs: 60_000 });
      const c = await raw(t, schema);
      const until = async (what: string, ok: () => Promise<boolean>) => {
        for (const deadline = Date.now() + 5_000; !(await ok()); await new Promise((r) => setTimeout(r, 20))) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        }
      };
      const contacts = async (s: PostgresStore) => [...(await s.allContactSettings()).keys()];
      const onCall = async (s: PostgresStore) => (await s.overridesAt(T0)).map((o) => o.contact);
      const listening = () =>
        c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`);
      t.same(await contacts(b), []);
      t.same(await onCall(b), []);
      await until('b to listen', async () => (await listening()).rows[0].n >= 1);
      t.same(await contacts(b), []);
      // Written by hand, with no notification: b keeps its copy (this is what saves a statement per webhook).
      await c.query(`INSERT INTO contact_settings (contact, settings, version) VALUES ('zed', '{"methods":[]}', 1)`);
      t.same(await contacts(b), [], 'a copy');
      const settings = { methods: [] };
      await a.updateContactSettings('alice', () => ({ settings, result: undefined }));
      await until("a's change of settings at b", async () => (await contacts(b)).includes('alice'));
      t.same(await contacts(b), ['alice', 'zed'], "another replica's change drops the copy");
      await a.addOverride({ team: null, contact: 'bob', from: T0, to: T0 + 60_000, by: 'api', createdAt: T0, covers: null }, 500, T0);
      await until("a's override at b", async () => (await onCall(b)).includes('bob'));
      await b.addOverride({ team: null, contact: 'carol', from: T0, to: T0 + 60_000, by: 'api', createdAt: T0, covers: null }, 500, T0);
      t.same(await onCall(b), ['bob', 'carol'], 'its own write at once');
      // Its listening connection dropped: no copy is trusted until it listens again.
      await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`);
      await until('the listener to go', async () => (await listening()).rows[0].n === 0);
      await c.query(`INSERT INTO contact_settings (contact, settings, version) VALUES ('yan', '{"methods":[]}', 1)`);
      await until('a fresh read after the listener was lost', async () => (await contacts(b)).includes('yan'));
      await until('b to listen again', async () => (await listening()).rows[0].n >= 1);
    },
  );

  t.test('no server: 503 at run time, a clear start-up error without the password', async (t) => {
    const nowhere = 'postgres://triage:hunter2@127.0.0.1:1/x';
    await t.rejects(PostgresStore.open({ url: nowhere, connectTimeoutMs: 1000 }), {
      name: 'StoreUnavailableError',
      message: /ECONNREFUSED/,
    });
    const err = await openStore(nowhere, { connectTimeoutMs: 1000 }).catch((e: Error) => e);
    t.match(err, {
      name: 'ConfigError',
      message: /^DATABASE_URL: cannot open the PostgreSQL database postgres:\/\/\*\*\*@127\.0\.0\.1:1\/x \(ECONNREFUSED/,
    });
    t.notMatch((err as Error).message, 'hunter2');
    const store = await open(t, { schema: freshSchema() });
    await store.close();
    await t.rejects(store.listIncidents({ limit: 1 }), { name: 'StoreUnavailableError', message: /closed/ });
  });

  t.test('DATABASE_URL=postgres://… selects PostgreSQL', async (t) => {
    const store = await openStore(url.replace(/^postgres:/, 'postgresql:'), { poolSize: 2 });
    t.teardown(() => store.close());
    t.ok(store instanceof PostgresStore);
    await store.ping();
  });
}
