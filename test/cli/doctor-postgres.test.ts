import pg from 'pg';
import t from 'tap';
import { main } from '../../src/cli/main.js';
import { PG_MIGRATIONS } from '../../src/store/postgres-migrations.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { freePort } from '../helpers.js';
import { testDatabase } from '../store/postgres-test-db.js';

// `alert-triage doctor` against the real PostgreSQL: one database for the file, taken through its
// states in order (empty, migrated, migrated by a newer release), then a port where nothing listens.
const db = await testDatabase(t);

async function doctorLines(databaseUrl: string, extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
  // The receiver is not what these cases check: it points at a closed port and fails on its own line.
  const code = await main(
    ['doctor', '--url', `http://127.0.0.1:${await freePort()}`],
    { DATABASE_URL: databaseUrl, WEBHOOK_TOKEN: 'w', API_TOKEN: 'a', ...extra },
    io,
  );
  return { code, lines };
}

const line = (lines: string[], name: string) => lines.find((l) => l.slice(2).startsWith(`${name}:`));

if ('skip' in db) {
  t.test('doctor against a real PostgreSQL', { skip: db.skip }, async () => {});
} else {
  const { url } = db;
  const masked = url.replace('postgres://postgres@', 'postgres://***@');

  t.test('an empty database answers and is not migrated yet: the service migrates at start-up', async (t) => {
    const { lines } = await doctorLines(url);
    t.equal(line(lines, 'store'), `✓ store: ${masked} answers; no incidents table yet`, lines.join('\n'));
    t.equal(
      line(lines, 'schema'),
      `✓ schema: not migrated yet (version 0, this release knows ${PG_MIGRATIONS.length}): the service migrates at start-up`,
    );
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    t.teardown(() => c.end());
    t.equal((await c.query(`SELECT to_regclass('schema_migrations') AS t`)).rows[0].t, null, 'doctor created nothing');
  });

  t.test('a migrated database is at the version this release knows', async (t) => {
    const store = await PostgresStore.open({ url, poolSize: 1 });
    await store.close();
    const { lines } = await doctorLines(url);
    t.equal(line(lines, 'store'), `✓ store: ${masked} answers; 0 open incidents`, lines.join('\n'));
    t.equal(line(lines, 'schema'), `✓ schema: version ${PG_MIGRATIONS.length}, the one this release knows`);
    t.notOk(lines.some((l) => /^✗ (store|schema)/.test(l)));
  });

  t.test('a schema a newer release migrated fails the check: the service would refuse it', async (t) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    t.teardown(() => c.end());
    await c.query(`INSERT INTO schema_migrations (version) VALUES ($1)`, [PG_MIGRATIONS.length + 1]);
    const { code, lines } = await doctorLines(url);
    t.equal(code, 1);
    t.match(line(lines, 'store'), /^✓ store: /);
    t.equal(
      line(lines, 'schema'),
      `✗ schema: version ${PG_MIGRATIONS.length + 1} is newer than this release (which knows up to ${PG_MIGRATIONS.length}): the service refuses to start on it; run that release or a newer one`,
    );
  });
}

t.test('nothing listens: the store line names the masked URL and the error code; the schema is not checked', async (t) => {
  const port = await freePort();
  const { code, lines } = await doctorLines(`postgres://triage:s3cret-pw@127.0.0.1:${port}/triage`, { DATABASE_CONNECT_TIMEOUT: '2s' });
  t.equal(code, 1);
  t.match(
    line(lines, 'store'),
    new RegExp(
      `^✗ store: DATABASE_URL: cannot open the PostgreSQL database postgres://\\*\\*\\*@127\\.0\\.0\\.1:${port}/triage \\(ECONNREFUSED: `,
    ),
  );
  t.equal(line(lines, 'schema'), '- schema: not checked: the database cannot be reached (see "store")');
  t.notMatch(lines.join('\n'), 's3cret-pw', 'the password is never printed');
});
