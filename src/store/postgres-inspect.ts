import pg from 'pg';
import { PG_MIGRATIONS } from './postgres-migrations.js';
import { PG_DEFAULTS, postgresClientConfig, type PostgresPoolSettings } from './postgres-store.js';

/** What `alert-triage doctor` learns of a PostgreSQL database without changing it. */
export interface PostgresInspection {
  /** The highest migration recorded in schema_migrations; 0 when the table does not exist yet. */
  version: number;
  /** The highest migration this release knows (and applies at start-up). */
  known: number;
  /** Incidents not yet resolved, when the schema has the incidents table; otherwise undefined. */
  openIncidents: number | undefined;
}

/**
 * Connects once, with the configured connect and statement timeouts, and reads the schema version.
 * Never migrates and never writes: a doctor run must not change the database it checks (and may be
 * pointed at a standby). A connection or query failure is thrown as the driver's error, with its code.
 */
export async function inspectPostgres(url: string, settings: PostgresPoolSettings = {}): Promise<PostgresInspection> {
  const statementTimeoutMs = settings.statementTimeoutMs ?? PG_DEFAULTS.statementTimeoutMs;
  const client = new pg.Client({
    ...postgresClientConfig(url),
    connectionTimeoutMillis: settings.connectTimeoutMs ?? PG_DEFAULTS.connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 1_000,
    application_name: 'alert-triage doctor',
  });
  // A server that drops the link after connecting emits 'error'; the failing query reports it.
  client.on('error', () => {});
  try {
    await client.connect();
    const table = (await client.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations') AS t`)).rows[0]!.t;
    const version =
      table === null
        ? 0
        : (await client.query<{ v: number }>(`SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations`)).rows[0]!.v;
    const incidents = (await client.query<{ t: string | null }>(`SELECT to_regclass('incidents') AS t`)).rows[0]!.t;
    const openIncidents =
      incidents === null
        ? undefined
        : (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM incidents WHERE status <> 'resolved'`)).rows[0]!.n;
    return { version, known: PG_MIGRATIONS.length, openIncidents };
  } finally {
    await client.end().catch(() => {});
  }
}
