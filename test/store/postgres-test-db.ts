import pg from 'pg';
import type { Test } from 'tap';
import { describeDatabaseUrl } from '../../src/store/open-store.js';
import { toolsRequired } from '../monitoring/tools.js';

/** The server the PostgreSQL tests use; each run makes its own database there and drops it after. */
export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';

export const HOW =
  'apt-get install -y postgresql && pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start, or set TEST_DATABASE_URL';

/** A database made for one run on the server at TEST_DATABASE_URL: its URL, and how to drop it. */
export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * Makes a fresh database on the server at TEST_DATABASE_URL (named `prefix`, the pid and the time),
 * or returns why none answers. Used by the tests (testDatabase) and by `npm run bench`.
 */
export async function scratchDatabase(prefix = 'alert_triage_test'): Promise<ScratchDatabase | { unavailable: string }> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
  } catch (err) {
    await admin.end().catch(() => {});
    return {
      unavailable: `no PostgreSQL answers at ${describeDatabaseUrl(TEST_DATABASE_URL)} (${(err as { code?: string }).code ?? (err as Error).message}): ${HOW}`,
    };
  }
  const name = `${prefix}_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      // FORCE: a connection a failed test left open must not keep the database alive.
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/**
 * A fresh database for this test file, dropped at teardown: its URL, or the skip message when no
 * PostgreSQL answers. Under CI (test/monitoring/tools.ts) no answer is a failure instead: .ci/run
 * starts PostgreSQL, so a skip there could only hide a broken set-up.
 */
export async function testDatabase(t: Test): Promise<{ url: string } | { skip: string }> {
  const db = await scratchDatabase();
  if ('unavailable' in db) {
    if (toolsRequired()) throw new Error(`${db.unavailable} (CI is set: the PostgreSQL tests fail instead of skipping)`);
    return { skip: db.unavailable };
  }
  t.teardown(() => db.drop());
  return { url: db.url };
}
