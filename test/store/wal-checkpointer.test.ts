import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { WalCheckpointer } from '../../src/store/wal-checkpointer.js';
import { decider, groupNotification, incomingAlert, tempDir } from '../helpers.js';

const notification = (i: number) => groupNotification([incomingAlert(`a${i}`, 'ServiceDown'), incomingAlert(`b${i}`, 'ServiceDown')], { groupKey: `g${i}` });
interface CheckpointerInternals {
  last: WalCheckpointer['last'];
  told: boolean;
  worker?: { terminate(): Promise<number> };
}
const internals = (store: SqliteStore) => store as unknown as { db: Database.Database; checkpointer: CheckpointerInternals };

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('the store never checkpoints inside a commit: a worker does, and the WAL starts again', async (t) => {
  const path = join(tempDir(t), 'c.db');
  const store = new SqliteStore({ path });
  t.teardown(() => store.close());
  const { db, checkpointer } = internals(store);
  t.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0, 'SQLite checkpoints nothing on the store connection');
  for (let i = 0; i < 200; i++) await store.applyNotification(notification(i), decider(1000));
  await until('a checkpoint report', () => checkpointer.last !== undefined && checkpointer.last.ok && checkpointer.last.checkpointed > 0);
  t.match(checkpointer.last, { ok: true, busy: 0 }, `the worker checkpointed (${JSON.stringify(checkpointer.last)})`);
  // Once every frame is back in the database, the next commit writes the WAL from its start. The
  // report must come after the last commit: one made before it may have been overtaken by commits.
  const settled = () => !checkpointer.told;
  await until('a report after the last commit, all frames checkpointed', () => settled() && checkpointer.last!.ok && (checkpointer.last as { log: number; checkpointed: number }).checkpointed === (checkpointer.last as { log: number }).log);
  const before = (checkpointer.last as { log: number }).log;
  await store.applyNotification(notification(1000), decider(1000));
  await until('the report after that commit', () => (checkpointer.last as { log: number }).log !== before);
  t.ok((checkpointer.last as { log: number }).log < before, `the WAL started again (${before} frames, then ${(checkpointer.last as { log: number }).log})`);
  t.equal((await store.listIncidents({ limit: 500 })).length, 201, 'every incident is there');
  await store.close();
  t.notOk(existsWal(path), 'closed: the WAL file is gone');
  // The data is in the database file itself.
  const check = new Database(path, { readonly: true });
  t.teardown(() => check.close());
  t.same(check.prepare('SELECT count(*) AS n FROM incidents').get(), { n: 201 });
});

t.test('if the worker dies, the store checkpoints on its own connection again and keeps working', async (t) => {
  const path = join(tempDir(t), 'd.db');
  const store = new SqliteStore({ path });
  t.teardown(() => store.close());
  const { db, checkpointer } = internals(store);
  await store.applyNotification(notification(1), decider(1000));
  await until('the worker', () => checkpointer.worker !== undefined);
  await checkpointer.worker!.terminate();
  await until('the fallback', () => db.pragma('wal_autocheckpoint', { simple: true }) !== 0);
  t.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000, "SQLite's own checkpoint is back");
  t.ok((await store.applyNotification(notification(2), decider(1000))).change, 'writes go on');
});

t.test('an in-memory store has no WAL and no worker', async (t) => {
  const store = new SqliteStore({ path: ':memory:' });
  t.teardown(() => store.close());
  await store.applyNotification(notification(1), decider(1000));
  t.equal(internals(store).checkpointer, undefined);
});

function existsWal(path: string): boolean {
  try {
    statSync(`${path}-wal`);
    return true;
  } catch {
    return false;
  }
}
