import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { assertRole } from '../../http/acting-person.js';
import { makePersonalToken } from '../../http/personal-tokens.js';
import { pageContext, sendHtml } from '../page-reply.js';
import { mePage, type MeView } from '../views/me-page.js';
import type { WebRoutesOptions } from '../web-options.js';
import { contactSection, type PhoneNotice } from '../me-contact-section.js';

const Csrf = Type.Optional(Type.String({ maxLength: 500 }));

/** Renders /me for the person signed in; `phone` says what the last change to their numbers or rules did. */
export async function renderMe(
  req: FastifyRequest,
  reply: FastifyReply,
  opts: WebRoutesOptions,
  extra: Pick<MeView, 'newToken' | 'message'> & { phone?: PhoneNotice } = {},
  status = 200,
) {
  const { store, clock } = opts;
  const person = req.person!;
  const { phone: notice, ...rest } = extra;
  const [sessions, tokens, phone] = await Promise.all([
    store.listSessions(person.key, clock.now()),
    store.listApiTokens(person.key),
    contactSection(req, opts, notice),
  ]);
  return sendHtml(
    reply,
    mePage(pageContext(req, reply, opts), { person, sessions, current: req.sessionHash, tokens, phone, ...rest }),
    status,
  );
}

/** /me: who you are, your role, your sessions and your personal API tokens. Open without a role. */
const me: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, opts) => {
  const { store, clock } = opts;

  const render = (req: FastifyRequest, reply: FastifyReply, extra: Pick<MeView, 'newToken' | 'message'> = {}) =>
    renderMe(req, reply, opts, extra);

  app.get('/me', async (req, reply) => render(req, reply));

  app.post(
    '/me/sessions/end',
    {
      schema: {
        body: Type.Object({ session: Type.String({ minLength: 1, maxLength: 100 }), _csrf: Csrf }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      const person = req.person!;
      const ended = await store.endSession(req.body.session, person.key);
      req.log.info(
        { audit: 'session-ended', person: person.key, own: req.body.session === req.sessionHash, ended },
        'a session ended from /me',
      );
      // Ending this browser's own session is signing out.
      if (req.body.session === req.sessionHash) return reply.redirect('/sign-in', 303);
      return reply.redirect('/me#sessions', 303);
    },
  );

  app.post(
    '/me/tokens',
    { schema: { body: Type.Object({ label: Type.String({ maxLength: 100 }), _csrf: Csrf }, { additionalProperties: false }) } },
    async (req, reply) => {
      const person = assertRole(req, 'viewer');
      const label = req.body.label.trim() || 'token';
      const { token, prefix, hash } = makePersonalToken();
      const { role: _role, via: _via, ...identity } = person;
      // No identity-provider groups: a token never expires, and groups read at one sign-in would give it
      // that role for good after the provider took it away. Its role comes from the config alone.
      await store.createApiToken({ prefix, hash, person: { ...identity, groups: [] }, label, createdAt: clock.now() });
      req.log.info({ audit: 'token-made', person: person.key, token: prefix, label }, 'personal API token made');
      // Shown in this answer only (no redirect: the token would have to be kept somewhere to show it again).
      return render(req, reply, { newToken: { label, token } });
    },
  );

  app.post(
    '/me/tokens/:id/revoke',
    {
      schema: {
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        body: Type.Object({ _csrf: Csrf }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      const person = req.person!;
      const revoked = await store.revokeApiToken(req.params.id, person.key);
      req.log.info({ audit: 'token-revoked', person: person.key, token: req.params.id, revoked }, 'personal API token revoked');
      return render(req, reply, { message: revoked ? 'The token is revoked: it no longer works.' : 'There was no such token of yours.' });
    },
  );
};

export default me;
