import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Responder, Via } from '../incidents/timeline.js';
import { refusal, type Person } from '../people/person.js';
import type { Role } from '../people/role.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The person acting on this request, whatever way they signed in (a web session, the proxy's
     * header, a personal token, API_TOKEN); undefined before sign-in. Set by the web session plugin
     * on the pages and by bearerAuth on the API. Read it; check it with requireRole.
     */
    person: Person | undefined;
  }
}

/** A refusal for want of a role: 403, with the role needed in words. */
export class RoleRefused extends Error {
  override name = 'RoleRefused';
  readonly statusCode = 403;
}

/** Declares `req.person` on every request of the app; called once, on the root. */
export function actingPerson(app: FastifyInstance): void {
  app.decorateRequest('person', undefined);
}

/** Throws RoleRefused (403, said in words, logged with who) unless the person acting has `need`. */
export function assertRole(req: FastifyRequest, need: Role): Person {
  const why = refusal(req.person, need);
  if (why === undefined) return req.person!;
  req.log.warn(
    { audit: 'role-refused', person: req.person?.key, role: req.person?.role ?? null, need, route: req.routeOptions.url },
    'refused for want of a role',
  );
  throw new RoleRefused(why);
}

/**
 * A preHandler that lets through only a person with `need` (or more): every write route has one.
 * Each scope's error handler words the 403: JSON on the API, a page on the pages.
 */
export function requireRole(need: Role) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    assertRole(req, need);
  };
}

/**
 * Who an action on an incident is recorded as: the person acting. API_TOKEN's automation may name
 * whom it acts for (`by`; anyone else's is ignored), and the built-in form signs in with API_TOKEN
 * and a name typed: both are recorded with `recordedBy: 'API_TOKEN'`, so that the timeline tells a
 * name given by the admin token from a person who signed in as themselves.
 */
export function responderOf(person: Person, via: Via, by?: string): Responder {
  if (person.via === 'api-token' && by !== undefined) return { name: by, via, recordedBy: 'API_TOKEN' };
  const self = { name: person.name, contact: person.contact ?? undefined, via };
  return person.via === 'form' ? { ...self, recordedBy: 'API_TOKEN' } : self;
}
