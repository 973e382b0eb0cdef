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
