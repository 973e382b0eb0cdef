import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { contactByEmail, identityOfContact, roleOf } from '../../people/people-config.js';
import type { Identity } from '../../people/person.js';
import { localPath } from '../local-path.js';
import { pageContext, sendHtml } from '../page-reply.js';
import { SignInQuerystring } from '../schemas.js';
import { errorPage } from '../views/error-page.js';
import { cookieBase, type WebRoutesOptions } from '../web-options.js';

/** The flow's state between the redirect to the provider and its return: signed, HttpOnly, 10 minutes. */
const FLOW_COOKIE = 'triage_oidc';
const FLOW_TTL_S = 600;

interface Flow {
  /** PKCE code verifier, state and nonce. */
  v: string;
  s: string;
  n: string;
  next: string;
}

/**
 * OpenID Connect sign-in with openid-client (the certified relying party): the authorization code
 * flow with PKCE, state and nonce, the provider found by discovery at first use (so a provider that
 * is down does not stop the service from starting), and the ID token verified by the library. The
 * person is the contact whose e-mail is the token's (verified) e-mail claim; someone else gets
 * people.unknown (refused, or signed in with no role or a role), told why in words.
 */
const oidcSignIn: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, opts) => {
  const settings = opts.oidc;
  if (!settings) return;
  if (!opts.publicUrl) throw new Error('OIDC needs PUBLIC_URL: the redirect is PUBLIC_URL/auth/callback');
  const redirectUri = new URL('/auth/callback', opts.publicUrl).href;
  const scope = settings.scopes ?? 'openid email profile';
  const cookieOpts = { ...cookieBase(opts), maxAge: FLOW_TTL_S };

  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = () => {
    discovered ??= oidc
      .discovery(
        new URL(settings.issuer),
        settings.clientId,
        undefined,
        oidc.ClientSecretBasic(settings.clientSecret),
        settings.allowInsecureIssuer ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        // Tried again at the next sign-in.
        discovered = undefined;
        throw err;
      });
    return discovered;
  };

  const page = (req: FastifyRequest, reply: FastifyReply, status: number, message: string) =>
    sendHtml(reply, errorPage(pageContext(req, reply, opts), status, message), status);

  app.get('/auth/sign-in', { schema: { querystring: SignInQuerystring } }, async (req, reply) => {
    let config: oidc.Configuration;
    try {
      config = await configuration();
    } catch (err) {
      req.log.error({ err, issuer: settings.issuer }, 'OpenID Connect discovery failed');
      return page(req, reply, 503, 'The identity provider cannot be reached right now. Try again in a minute.');
    }
    const flow: Flow = { v: oidc.randomPKCECodeVerifier(), s: oidc.randomState(), n: oidc.randomNonce(), next: localPath(req.query.next) };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.v),
      code_challenge_method: 'S256',
      state: flow.s,
      nonce: flow.n,
    });
    reply.setCookie(FLOW_COOKIE, JSON.stringify(flow), cookieOpts);
    return reply.redirect(url.href, 303);
  });

  app.get('/auth/callback', async (req, reply) => {
    const raw = req.cookies[FLOW_COOKIE];
    const unsigned = raw ? req.unsignCookie(raw) : undefined;
    reply.clearCookie(FLOW_COOKIE, cookieBase(opts));
    let flow: Flow | undefined;
    try {
      flow = unsigned?.valid && unsigned.value ? (JSON.parse(unsigned.value) as Flow) : undefined;
    } catch {
      flow = undefined;
    }
    if (!flow)
      return page(
        req,
        reply,
        400,
        'This sign-in took longer than ten minutes or began in another browser. Start again from the sign-in page.',
      );
    const wait = opts.limiters.signInByAddress.retryAfter(req.ip);
    if (wait !== undefined) {
      reply.header('retry-after', String(wait));
      return page(req, reply, 429, 'Too many failed sign-ins from here. Try again later.');
    }

    let claims: Record<string, unknown>;
    try {
      const config = await configuration();
      const tokens = await oidc.authorizationCodeGrant(config, new URL(req.url, opts.publicUrl), {
        pkceCodeVerifier: flow.v,
        expectedState: flow.s,
        expectedNonce: flow.n,
        idTokenExpected: true,
      });
      claims = (tokens.claims() ?? {}) as Record<string, unknown>;
    } catch (err) {
      opts.limiters.signInByAddress.fail(req.ip);
      const refusedByProvider = err instanceof oidc.AuthorizationResponseError;
      req.log.warn(
        { audit: 'sign-in-refused', via: 'oidc', address: req.ip, reason: refusedByProvider ? err.error : (err as Error).name },
        'OpenID Connect sign-in failed',
      );
      return page(
        req,
        reply,
        401,
        refusedByProvider
          ? `The identity provider did not sign you in (${err.error}). Start again from the sign-in page.`
          : 'The identity provider’s answer could not be verified, so nobody is signed in. Start again from the sign-in page.',
      );
    }

    const { people, paging } = opts.settings();
    const email = claims[people.emailClaim];
    const verified = claims['email_verified'] === true || (people.allowUnverifiedEmail && claims['email_verified'] === undefined);
    if (typeof email !== 'string' || !email.includes('@'))
      return refuse(
        req,
        reply,
        `Your identity provider sent no e-mail address (claim "${people.emailClaim}"). Ask an admin to add the "email" scope.`,
      );
    if (!verified) return refuse(req, reply, `Your identity provider says ${email} is not verified, so it cannot tell who you are here.`);
    const groupsClaim = claims[people.groupsClaim];
    const groups = Array.isArray(groupsClaim) ? groupsClaim.filter((g): g is string => typeof g === 'string').slice(0, 200) : [];
    const contact = contactByEmail(paging.contacts, email);
    const name = typeof claims['name'] === 'string' && claims['name'].trim() ? claims['name'].trim().slice(0, 200) : email;
    const identity: Identity = contact
      ? identityOfContact(contact, groups)
      : { key: `email:${email.toLowerCase()}`, contact: null, name, email, groups };
    if (!contact && people.unknown === 'refuse' && roleOf(people, paging.contacts, identity) === null)
      return refuse(
        req,
        reply,
        `${email} is not a contact in this service's config, and it lets no one else in. Ask an admin to add your address to a contact (or your group under people.groups).`,
      );
    await app.startSession(req, reply, identity, 'oidc');
    return reply.redirect(flow.next, 303);
  });

  function refuse(req: FastifyRequest, reply: FastifyReply, why: string) {
    req.log.warn({ audit: 'sign-in-refused', via: 'oidc', address: req.ip, reason: why }, 'OpenID Connect sign-in refused');
    return page(req, reply, 403, why);
  }
};

export default oidcSignIn;
