import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { personOf, type PeopleConfig, type PersonRecord } from '../people/people-config.js';
import type { Person } from '../people/person.js';
import type { PeopleStore } from '../store/store.js';
import type { AttemptLimiters } from './attempt-limiter.js';
import { authorizationMatches } from './auth.js';
import { personalTokenPrefix, tokenHash } from './personal-tokens.js';

/** What bearerAuth needs. */
export interface BearerAuthOptions {
  /** API_TOKEN: the admin's bootstrap and automation token; unset, the API is open (a local trial). */
  apiToken: string | undefined;
  store: Pick<PeopleStore, 'apiTokenByHash' | 'touchApiToken'>;
  /** The config in force: roles are worked out at each request, so a reload applies at once. */
  people: () => { people: PeopleConfig; contacts: readonly PersonRecord[] };
  clock: Clock;
  limiters: Pick<AttemptLimiters, 'bearerByAddress' | 'bearerByAccount'>;
  realm: string;
}

/** Who API_TOKEN is: automation, or an admin bootstrapping. */
export const API_TOKEN_PERSON: Person = {
  key: 'api-token',
  contact: null,
  name: 'api',
  email: null,
  groups: [],
  role: 'admin',
  via: 'api-token',
};

/** A token's last-used time is written at most this often. */
const TOUCH_EVERY_MS = 60_000;

/**
 * An onRequest hook that sets `req.person` from the Authorization header (before the body is
 * read): a personal token (`Bearer tri_…`) is its maker with their role now; API_TOKEN is the admin
 * automation person. Anything else is 401, and too many failures from one address, or for one
 * personal token's prefix, are 429 with Retry-After. Tokens are never read from the URL.
 */
export function bearerAuth(opts: BearerAuthOptions) {
  const { limiters, clock } = opts;
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const address = req.ip;
    const header = req.headers.authorization;
    const presented = /^bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim();
    const prefix = presented === undefined ? undefined : personalTokenPrefix(presented);
    const wait = limiters.bearerByAddress.retryAfter(address) ?? (prefix ? limiters.bearerByAccount.retryAfter(prefix) : undefined);
    if (wait !== undefined) {
      req.log.warn({ audit: 'bearer-limited', address, token: prefix }, 'too many wrong API tokens; answering 429');
      return reply
        .code(429)
        .header('retry-after', String(wait))
        .send({ error: 'Too Many Requests', message: `too many wrong tokens from here; retry in ${wait} s` });
    }
    if (prefix) {
      const found = await opts.store.apiTokenByHash(tokenHash(presented!));
      if (found) {
        const { people, contacts } = opts.people();
        req.person = personOf(people, contacts, found.person, 'personal-token');
        const now = clock.now();
        if (found.lastUsedAt === null || now - found.lastUsedAt >= TOUCH_EVERY_MS) await opts.store.touchApiToken(found.id, now);
        return;
      }
    } else if (opts.apiToken === undefined) {
      // A local trial without API_TOKEN: the API is open, as the server's startup warning says.
      req.person = API_TOKEN_PERSON;
      return;
    } else if (authorizationMatches(header, opts.apiToken, false)) {
      req.person = API_TOKEN_PERSON;
      return;
    }
    limiters.bearerByAddress.fail(address);
    if (prefix) limiters.bearerByAccount.fail(prefix);
    if (header !== undefined) req.log.warn({ audit: 'bearer-refused', address, token: prefix }, 'wrong API token');
    reply.header('www-authenticate', `Bearer realm="${opts.realm}"`);
    return reply.code(401).send({ error: 'Unauthorized', message: `missing or wrong credentials for ${opts.realm}` });
  };
}
