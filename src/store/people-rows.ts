import type { Identity, SignInMethod } from '../people/person.js';
import type { Engine } from './rows.js';
import type { ApiTokenRecord, SessionRecord } from './store.js';

// The sessions' and personal tokens' rows and statements, written once for both engines (with the
// engine's placeholders) like rows.ts. Groups are a JSON array as text in both.

export interface SessionRow {
  id_hash: string;
  person: string;
  contact: string | null;
  name: string;
  email: string | null;
  groups: string;
  via: string;
  created_at: number | string;
  expires_at: number | string;
  user_agent: string | null;
  id_token: string | null;
}

export interface ApiTokenRow {
  id: number | string;
  prefix: string;
  hash: string;
  person: string;
  contact: string | null;
  name: string;
  email: string | null;
  groups: string;
  label: string;
  created_at: number | string;
  last_used_at: number | string | null;
}

const identity = (r: SessionRow | ApiTokenRow): Identity => ({
  key: r.person,
  contact: r.contact,
  name: r.name,
  email: r.email,
  groups: JSON.parse(r.groups) as string[],
});

export const toSession = (r: SessionRow): SessionRecord => ({
  idHash: r.id_hash,
  person: identity(r),
  via: r.via as SignInMethod,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  userAgent: r.user_agent,
  idToken: r.id_token,
});

export const toApiToken = (r: ApiTokenRow): ApiTokenRecord => ({
  id: Number(r.id),
  prefix: r.prefix,
  hash: r.hash,
  person: identity(r),
  label: r.label,
  createdAt: Number(r.created_at),
  lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
});

export function sessionValues(s: SessionRecord): unknown[] {
  const p = s.person;
  return [
    s.idHash,
    p.key,
    p.contact,
    p.name,
    p.email,
    JSON.stringify(p.groups),
    s.via,
    s.createdAt,
    s.expiresAt,
    s.userAgent,
    s.idToken ?? null,
  ];
}

export function apiTokenValues(t: Omit<ApiTokenRecord, 'id' | 'lastUsedAt'>): unknown[] {
  const p = t.person;
  return [t.prefix, t.hash, p.key, p.contact, p.name, p.email, JSON.stringify(p.groups), t.label, t.createdAt];
}

/** The statements of PeopleStore, for one engine. */
export function peopleSql(e: Engine) {
  const p = e.param;
  const list = (from: number, n: number) => Array.from({ length: n }, (_, i) => p(from + i)).join(', ');
  return {
    /** Inserts a session (sessionValues). */
    createSession: `INSERT INTO web_sessions (id_hash, person, contact, name, email, groups, via, created_at, expires_at, user_agent, id_token)
       VALUES (${list(1, 11)})`,
    /** SessionRow $1 if it has not expired by $2. */
    session: `SELECT * FROM web_sessions WHERE id_hash = ${p(1)} AND expires_at > ${p(2)}`,
    /** Deletes session $1, RETURNING it. */
    endSession: `DELETE FROM web_sessions WHERE id_hash = ${p(1)} RETURNING id_hash`,
    /** Deletes session $1 of person $2, RETURNING it. */
    endSessionOf: `DELETE FROM web_sessions WHERE id_hash = ${p(1)} AND person = ${p(2)} RETURNING id_hash`,
    /** SessionRow of person $1 not expired by $2, newest first. */
    sessionsOf: `SELECT * FROM web_sessions WHERE person = ${p(1)} AND expires_at > ${p(2)} ORDER BY created_at DESC, id_hash`,
    /** Deletes every session of person $1. */
    endSessionsOf: `DELETE FROM web_sessions WHERE person = ${p(1)} RETURNING id_hash`,
    /** Deletes the sessions expired by $1. */
    sweepSessions: `DELETE FROM web_sessions WHERE expires_at <= ${p(1)} RETURNING id_hash`,
    /** Inserts a token (apiTokenValues), RETURNING id. */
    createApiToken: `INSERT INTO api_tokens (prefix, hash, person, contact, name, email, groups, label, created_at)
       VALUES (${list(1, 9)}) RETURNING id`,
    apiTokenByHash: `SELECT * FROM api_tokens WHERE hash = ${p(1)}`,
    apiTokensOf: `SELECT * FROM api_tokens WHERE person = ${p(1)} ORDER BY id`,
    /** Deletes token $1 of person $2, RETURNING id. */
    revokeApiTokenOf: `DELETE FROM api_tokens WHERE id = ${p(1)} AND person = ${p(2)} RETURNING id`,
    revokeApiToken: `DELETE FROM api_tokens WHERE id = ${p(1)} RETURNING id`,
    touchApiToken: `UPDATE api_tokens SET last_used_at = ${p(1)} WHERE id = ${p(2)}`,
  };
}
