import type { FastifyRequest } from 'fastify';
import { refusal } from '../people/person.js';

/**
 * Who may silence alerts in Alertmanager from an incident (and expire those silences): the one
 * place that decides it, for the page's forms and for whether the page shows them. Responders
 * may; viewers may not.
 */
export function maySilence(req: FastifyRequest): boolean {
  return refusal(req.person, 'responder') === undefined;
}

/**
 * Why the person reading an incident page may not act on it (acknowledge, resolve, notes, the
 * checklist, the review, silences), in one line for the page; undefined when they may. The page
 * then shows itself read-only instead of buttons that would answer 403 (the routes still refuse).
 */
export function readOnlyReason(req: FastifyRequest): string | undefined {
  if (refusal(req.person, 'responder') === undefined) return undefined;
  const have = req.person?.role ? `the ${req.person.role} role` : 'no role';
  return `You have ${have}, so this page is read-only: acknowledging, resolving, notes, the checklist, the review and silences need the responder role. An admin gives it in the config (your contact's "access", or your identity-provider group under people.groups).`;
}
