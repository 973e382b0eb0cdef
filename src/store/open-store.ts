import { ConfigError } from '../config/load-config.js';
import { SqliteStore } from './sqlite-store.js';
import type { IncidentStore } from './store.js';

export const DEFAULT_SQLITE_PATH = './data/alert-triage.db';

/** DATABASE_URL for logs and checks: the default spelled out, a password masked. */
export function describeDatabaseUrl(databaseUrl: string | undefined): string {
  return databaseUrl ? databaseUrl.replace(/\/\/[^@/]*@/, '//***@') : `sqlite:${DEFAULT_SQLITE_PATH}`;
}

/** A file that cannot be opened is a configuration problem: say which file and why, not a stack trace. */
function openSqlite(path: string): IncidentStore {
  try {
    return new SqliteStore({ path });
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as Error).message;
    throw new ConfigError(`DATABASE_URL: cannot open the SQLite database ${path} (${code}); check that its folder exists and is writable, or set sqlite:PATH`);
  }
}

/** Opens the store DATABASE_URL names: unset for the default SQLite file, `sqlite:PATH` for another file. */
export function openStore(databaseUrl: string | undefined): IncidentStore {
  if (!databaseUrl) return openSqlite(DEFAULT_SQLITE_PATH);
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new ConfigError('DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/alert-triage.db');
    return openSqlite(path);
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL: the PostgreSQL store is not supported yet; unset DATABASE_URL to use SQLite or set sqlite:PATH');
  }
  // Never echo the URL: it may carry a password.
  throw new ConfigError('DATABASE_URL: unknown scheme; use sqlite:PATH (or leave it unset for ./data/alert-triage.db)');
}
