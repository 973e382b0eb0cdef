import { ConfigError } from '../config/load-config.js';
import { PostgresStore, type PostgresPoolSettings } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';
import { StoreUnavailableError, type IncidentStore } from './store.js';

export const DEFAULT_SQLITE_PATH = './data/alert-triage.db';

/** DATABASE_URL for logs and checks: the default spelled out, a password masked (in the authority or a query parameter). */
export function describeDatabaseUrl(databaseUrl: string | undefined): string {
  return databaseUrl
    ? databaseUrl.replace(/\/\/[^@/]*@/, '//***@').replace(/([?&]password=)[^&]*/gi, '$1***')
    : `sqlite:${DEFAULT_SQLITE_PATH}`;
}

/** A file that cannot be opened is a configuration problem: say which file and why, not a stack trace. */
function openSqlite(path: string): IncidentStore {
  try {
    return new SqliteStore({ path });
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as Error).message;
    throw new ConfigError(
      `DATABASE_URL: cannot open the SQLite database ${path} (${code}); check that its folder exists and is writable, or set sqlite:PATH`,
    );
  }
}

/** A database that cannot be reached or migrated at start-up stops the service with the masked URL and the reason. */
async function openPostgres(url: string, settings: PostgresPoolSettings): Promise<IncidentStore> {
  try {
    return await PostgresStore.open({ url, ...settings });
  } catch (err) {
    const where = describeDatabaseUrl(url);
    if (err instanceof ConfigError) throw new ConfigError(`DATABASE_URL: ${where}: ${err.message}`);
    // The driver's own error says it best: StoreUnavailableError only wraps it.
    const cause = err instanceof StoreUnavailableError && err.cause ? err.cause : err;
    const code = (cause as { code?: unknown }).code;
    let reason = (cause as Error).message ?? String(cause);
    // Never echo a secret, whatever a driver puts in its message.
    const password = passwordOf(url);
    if (password) reason = reason.split(password).join('***');
    throw new ConfigError(
      `DATABASE_URL: cannot open the PostgreSQL database ${where} (${typeof code === 'string' ? `${code}: ` : ''}${reason})`,
    );
  }
}

/** The password a database URL carries (in its user part or as ?password=), to keep it out of messages. */
export function passwordOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return decodeURIComponent(u.password) || u.searchParams.get('password') || undefined;
  } catch {
    return undefined;
  }
}

/** A DATABASE_URL that selects PostgreSQL. */
export function isPostgresUrl(url: string | undefined): boolean {
  return url !== undefined && /^postgres(ql)?:\/\//.test(url);
}

/**
 * Opens the store DATABASE_URL names: unset for the default SQLite file, `sqlite:PATH` for another
 * file, `postgres://…` (or `postgresql://…`) for PostgreSQL, whose migrations run before it resolves.
 */
export async function openStore(databaseUrl: string | undefined, postgres: PostgresPoolSettings = {}): Promise<IncidentStore> {
  if (!databaseUrl) return openSqlite(DEFAULT_SQLITE_PATH);
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new ConfigError('DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/alert-triage.db');
    return openSqlite(path);
  }
  if (isPostgresUrl(databaseUrl)) return openPostgres(databaseUrl, postgres);
  // Never echo the URL: it may carry a password.
  throw new ConfigError('DATABASE_URL: unknown scheme; use sqlite:PATH, postgres://… (or leave it unset for ./data/alert-triage.db)');
}
