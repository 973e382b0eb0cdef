import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type * as OidcClient from 'openid-client';
import { contactByEmail, identityOfContact, roleOf } from '../../people/people-config.js';
import type { Identity } from '../../people/person.js';
import { localPath } from '../local-path.js';
import { pageContext, sendHtml } from '../page-reply.js';
import { SignInQuerystring } from '../schemas.js';
import { errorPage } from '../views/error-page.js';
import { signedOutPage } from '../views/sign-in.js';
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
  // Loaded only when OIDC is configured: the Quick start does not pay for it at startup.
  const oidc: typeof OidcClient = await import('openid-client');
  if (!opts.publicUrl) throw new Error('OIDC needs PUBLIC_URL: the redirect is PUBLIC_URL/auth/callback');
  const redirectUri = new URL('/auth/callback', opts.publicUrl).href;
  const scope = settings.scopes ?? 'openid email profile';
  const cookieOpts = { ...cookieBase(opts), maxAge: FLOW_TTL_S };
  const postLogoutUri = new URL('/sign-in', opts.publicUrl).href;
  const issuerOrigin = new URL(settings.issuer).origin;
  /** Whether sign-out ends the provider's session too: it advertises where, and OIDC_END_SESSION is not off. */
  const endsAtProvider = (config: OidcClient.Configuration) =>
    settings.endSession !== false && typeof config.serverMetadata().end_session_endpoint === 'string';

  let discovered: Promise<OidcClient.Configuration> | undefined;
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
    let config: OidcClient.Configuration;
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
    let idToken: string | undefined;
    try {
      const config = await configuration();
      const tokens = await oidc.authorizationCodeGrant(config, new URL(req.url, opts.publicUrl), {
        pkceCodeVerifier: flow.v,
        expectedState: flow.s,
        expectedNonce: flow.n,
        idTokenExpected: true,
      });
      claims = tokens.claims() ?? {};
      // Kept with the session only when sign-out will send it back to end the provider's session.
      if (endsAtProvider(config)) idToken = tokens.id_token;
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
    await app.startSession(req, reply, identity, 'oidc', idToken);
    return reply.redirect(flow.next, 303);
  });

  // RP-initiated logout: the session here ends first, whatever happens next; then, for a session that
  // began at a provider advertising end_session_endpoint, the browser goes there to end the
  // provider's session too (so that the next sign-in, or a shared computer's next user, is asked
  // again), and comes back to the sign-in page (PUBLIC_URL/sign-in, registered at the provider).
  app.post('/sign-out', async (req, reply) => {
    const ended = await app.endWebSession(req, reply);
    if (ended?.via !== 'oidc' || !ended.idToken) return reply.redirect('/sign-in', 303);
    let config: OidcClient.Configuration;
    try {
      config = await configuration();
    } catch (err) {
      req.log.warn({ err, issuer: settings.issuer }, 'the identity provider cannot be reached: signed out here only');
      return reply.redirect('/sign-in', 303);
    }
    if (!endsAtProvider(config)) return reply.redirect('/sign-in', 303);
    const url = oidc.buildEndSessionUrl(config, { id_token_hint: ended.idToken, post_logout_redirect_uri: postLogoutUri });
    req.log.info({ audit: 'sign-out-provider', person: ended.person.key }, 'sent to the identity provider to sign out there too');
    // The form's redirect may only go to the issuer's origin (the pages' form-action); an endpoint
    // elsewhere is offered as a link instead, which the browser follows as a plain navigation.
    if (url.origin !== issuerOrigin) return sendHtml(reply, signedOutPage(pageContext(req, reply, opts), url.href));
    return reply.redirect(url.href, 303);
  });

  function refuse(req: FastifyRequest, reply: FastifyReply, why: string) {
    req.log.warn({ audit: 'sign-in-refused', via: 'oidc', address: req.ip, reason: why }, 'OpenID Connect sign-in refused');
    return page(req, reply, 403, why);
  }
};

export default oidcSignIn;
