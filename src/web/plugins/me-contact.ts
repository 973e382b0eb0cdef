import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { assertRole } from '../../http/acting-person.js';
import { maskNumber, type ContactOutcome } from '../../service/contact-service.js';
import type { WebRoutesOptions } from '../web-options.js';
import { renderMe } from './me.js';
export type { PhoneNotice } from '../me-contact-section.js';

// /me's forms for being reached: add a number (a code is texted to it), verify it, send a new code,
// remove it; save one's notification rules; download the vCard of the numbers pages come from.
// Each change needs the responder role and acts on the signed-in person's own contact only. The
// code is read from the form and handed to the service: it is never logged.

const Csrf = Type.Optional(Type.String({ maxLength: 500 }));
const NumberField = Type.String({ maxLength: 40 });

const meContact: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, opts) => {
  const contacts = opts.contacts;
  if (!contacts) return;

  /** The person's contact id, after checking the role; refuses a person who is no contact. */
  const own = (req: FastifyRequest) => {
    const person = assertRole(req, 'responder');
    return { person, contact: person.contact ?? '' };
  };

  /** Answers with /me and what happened: 200 (or a redirect) when done, the refusal's status when not. */
  const answer = async (
    req: FastifyRequest,
    reply: FastifyReply,
    r: ContactOutcome,
    audit: string,
    extra: Record<string, unknown>,
    typed?: string,
  ) => {
    const person = req.person!;
    req.log.info({ audit, person: person.key, ok: r.ok, ...extra }, `/me: ${audit}`);
    return renderMe(req, reply, opts, { phone: r.ok ? { message: r.message } : { error: r.message, typed } }, r.ok ? 200 : r.status);
  };

  app.post(
    '/me/numbers',
    {
      schema: {
        body: Type.Object(
          { number: NumberField, sms: Type.Optional(Type.Literal('on')), voice: Type.Optional(Type.Literal('on')), _csrf: Csrf },
          { additionalProperties: false },
        ),
      },
    },
    async (req, reply) => {
      const { contact } = own(req);
      const methods = [...(req.body.sms ? ['sms'] : []), ...(req.body.voice ? ['voice'] : [])];
      const r = await contacts.addNumber(contact, req.body.number, methods);
      return answer(req, reply, r, 'phone-number-added', { number: maskNumber(req.body.number.trim()), methods }, req.body.number);
    },
  );

  app.post(
    '/me/numbers/verify',
    {
      schema: {
        body: Type.Object({ number: NumberField, code: Type.String({ maxLength: 20 }), _csrf: Csrf }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      const { contact } = own(req);
      const r = await contacts.verify(contact, req.body.number, req.body.code);
      return answer(req, reply, r, 'phone-number-verified', { number: maskNumber(req.body.number) });
    },
  );

  app.post(
    '/me/numbers/resend',
    { schema: { body: Type.Object({ number: NumberField, _csrf: Csrf }, { additionalProperties: false }) } },
    async (req, reply) => {
      const { contact } = own(req);
      const r = await contacts.resend(contact, req.body.number);
      return answer(req, reply, r, 'phone-code-resent', { number: maskNumber(req.body.number) });
    },
  );

  app.post(
    '/me/numbers/remove',
    { schema: { body: Type.Object({ number: NumberField, _csrf: Csrf }, { additionalProperties: false }) } },
    async (req, reply) => {
      const { contact } = own(req);
      const r = await contacts.remove(contact, req.body.number);
      return answer(req, reply, r, 'phone-number-removed', { number: maskNumber(req.body.number) });
    },
  );

  app.post(
    '/me/rules',
    {
      schema: {
        // Fields are named by severity and step (critical_method_0, ...): each one is checked by the service.
        body: Type.Object({ _csrf: Csrf }, { additionalProperties: Type.String({ maxLength: 40 }), maxProperties: 80 }),
      },
    },
    async (req, reply) => {
      const { contact } = own(req);
      const r = await contacts.saveRules(contact, req.body);
      return answer(req, reply, r, 'notification-rules-saved', {});
    },
  );

  // The numbers pages come from, as a contact card: saved on the phone, it can ring through Do Not Disturb.
  app.get('/me/pages-contact.vcf', async (req, reply) => {
    assertRole(req, 'viewer');
    const card = contacts.vcard(opts.publicUrl);
    if (!card) return reply.code(404).type('text/plain; charset=utf-8').send('Calls and texts are not configured on this service.');
    return reply
      .type('text/vcard; charset=utf-8')
      .header('content-disposition', 'attachment; filename="alert-triage-pages.vcf"')
      .header('cache-control', 'no-store')
      .send(card);
  });
};

export default meContact;
