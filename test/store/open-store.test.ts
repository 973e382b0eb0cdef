import t from 'tap';
import { readEnv } from '../../src/config/env.js';
import { describeDatabaseUrl, openStore } from '../../src/store/open-store.js';
import { postgresClientConfig } from '../../src/store/postgres-store.js';

t.test('describeDatabaseUrl masks passwords, in the authority and in a query parameter', async (t) => {
  t.equal(describeDatabaseUrl(undefined), 'sqlite:./data/alert-triage.db');
  t.equal(describeDatabaseUrl('postgres://triage:hunter2@db:5432/triage'), 'postgres://***@db:5432/triage');
  t.equal(
    describeDatabaseUrl('postgresql://db/triage?user=t&password=hunter2&sslmode=require'),
    'postgresql://db/triage?user=t&password=***&sslmode=require',
  );
});

t.test('TLS comes from sslmode, read as libpq reads it', async (t) => {
  const ssl = (query: string) => postgresClientConfig(`postgres://u@db.example:5432/triage${query}`).ssl;
  t.equal(ssl(''), undefined, 'no sslmode: no TLS');
  t.equal(ssl('?sslmode=disable'), false);
  t.match(ssl('?sslmode=require'), { rejectUnauthorized: false }, 'require: encrypted, the certificate not checked');
  t.match(ssl('?sslmode=prefer'), { rejectUnauthorized: false }, 'prefer: as require (node-postgres cannot fall back)');
  const full = ssl('?sslmode=verify-full');
  t.type(full, 'object');
  t.not((full as { rejectUnauthorized?: boolean }).rejectUnauthorized, false, 'verify-full: the certificate and the host name are checked');
  t.throws(() => ssl('?sslmode=verify-ca'), /sslrootcert/, 'verify-ca without a CA is refused');
  t.match(
    ssl('?sslmode=no-verify&uselibpqcompat=false'),
    { rejectUnauthorized: false },
    "uselibpqcompat in the URL keeps node-postgres' own reading",
  );
  t.match(postgresClientConfig('postgres://u:p@db.example:6432/triage'), { host: 'db.example', port: 6432, database: 'triage', user: 'u' });
});

t.test('a bad sslmode set-up stops the start with a message, not a stack trace', async (t) => {
  await t.rejects(openStore('postgres://u:hunter2@127.0.0.1:1/x?sslmode=verify-ca'), {
    name: 'ConfigError',
    message: /^DATABASE_URL: cannot open the PostgreSQL database postgres:\/\/\*\*\*@.*sslrootcert/,
  });
});

t.test('pool settings come from DATABASE_POOL_SIZE, DATABASE_CONNECT_TIMEOUT, DATABASE_STATEMENT_TIMEOUT', async (t) => {
  t.same(
    readEnv({}).database,
    { poolSize: undefined, connectTimeoutMs: undefined, statementTimeoutMs: undefined },
    "unset: the store's defaults",
  );
  t.same(readEnv({ DATABASE_POOL_SIZE: '20', DATABASE_CONNECT_TIMEOUT: '3s', DATABASE_STATEMENT_TIMEOUT: '1m' }).database, {
    poolSize: 20,
    connectTimeoutMs: 3000,
    statementTimeoutMs: 60_000,
  });
  t.throws(() => readEnv({ DATABASE_POOL_SIZE: '0' }), { name: 'ConfigError', message: /^DATABASE_POOL_SIZE:/ });
  t.throws(() => readEnv({ DATABASE_STATEMENT_TIMEOUT: 'soon' }), { name: 'ConfigError', message: /^DATABASE_STATEMENT_TIMEOUT:/ });
});
