import pg from 'pg';
import type { Test } from 'tap';
import { describeDatabaseUrl } from '../../src/store/open-store.js';
import { toolsRequired } from '../monitoring/tools.js';

/** The server the PostgreSQL tests use; each run makes its own database there and drops it after. */
export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';

const HOW = 'apt-get install -y postgresql && pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start, or set TEST_DATABASE_URL';

/**
 * A fresh database for this test file, dropped at teardown: its URL, or the skip message when no
 * PostgreSQL answers. Under CI (test/monitoring/tools.ts) no answer is a failure instead: .ci/run
 * starts PostgreSQL, so a skip there could only hide a broken set-up.
 */
export async function testDatabase(t: Test): Promise<{ url: string } | { skip: string }> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
  } catch (err) {
    await admin.end().catch(() => {});
    const message = `no PostgreSQL answers at ${describeDatabaseUrl(TEST_DATABASE_URL)} (${(err as { code?: string }).code ?? (err as Error).message}): ${HOW}`;
    if (toolsRequired()) throw new Error(`${message} (CI is set: the PostgreSQL tests fail instead of skipping)`);
    return { skip: message };
  }
  const name = `alert_triage_test_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  t.teardown(async () => {
    // FORCE: a connection a failed test left open must not keep the database alive.
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return { url: url.toString() };
}
