import type { FastifyRequest } from 'fastify';
import { roleAtLeast } from '../people/role.js';
import type { MeContactView } from './views/me-contact.js';
import type { WebRoutesOptions } from './web-options.js';

/** What the last change did, for the sections to say. */
export type PhoneNotice = Pick<MeContactView, 'message' | 'error' | 'typed'>;

/** The sections' data for the signed-in person. */
export async function contactSection(
  req: FastifyRequest,
  opts: WebRoutesOptions,
  notice: PhoneNotice = {},
): Promise<MeContactView | undefined> {
  const person = req.person;
  if (!opts.contacts || !person?.role) return undefined;
  const view = person.contact ? await opts.contacts.view(person.contact) : undefined;
  return { view, canChange: roleAtLeast(person.role, 'responder'), ...notice };
}
