import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import formbody from '@fastify/formbody';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import Type from 'typebox';
import type { AnswerBudget } from '../http/answer-budget.js';
import type { AttemptLimiter } from '../http/attempt-limiter.js';
import { StatusInputError, type StatusService, type StatusSnapshot } from '../service/status-service.js';
import { prepareAnswer, STATUS_SECURITY_HEADERS, writeAnswer, type PreparedAnswer } from './status-answers.js';
import { atomFeed, jsonSummary, rssFeed } from './status-feeds.js';
import { trustedProxies } from './session.js';
import { STATUS_CSS, statusMessagePage, statusPageHtml } from './views/status-page.js';

/**
 * Where the status page's answers come from: the StatusService on the service's own port, or the
 * snapshots the main thread posts to the status listener's worker (status-listener.ts), whose
 * writes (subscribe, confirm, unsubscribe) go back to the StatusService, arguments and results as
 * they are.
 */
export type StatusSource = Pick<StatusService, 'config' | 'subscriptionsOpen' | 'snapshot' | 'base' | StatusWrite>;
/** The StatusService's methods the forms call: the status listener's thread posts them to the main thread. */
export type StatusWrite = 'subscribe' | 'confirm' | 'unsubscribe';

/** What the public status page needs. */
export interface StatusRoutesOptions {
  status: StatusSource;
  /**
   * Subscribe requests per client and per e-mail address, in memory on this listener: checked first,
   * so that a flood is refused without a write. The store bounds requests per client and e-mails per
   * address for every replica and listener (service/status-service.ts).
   */
  limiters: { byClient: AttemptLimiter; byEmail: AttemptLimiter };
  /** The status page's own origin (STATUS_PUBLIC_URL), which its forms may come from as well as the service's. */
  origins: readonly string[];
  /** STATUS_TRUSTED_PROXIES: the proxies or CDN in front, whose X-Forwarded-For names the client. */
  trustedProxies?: readonly string[];
  /** The cached answers' share of this event loop (on the service's port, the webhooks'): beyond it they wait, then get a quick 503. */
  budget?: AnswerBudget | undefined;
}

export { STATUS_MAX_AGE_S } from './status-answers.js';

const Token = Type.Object({ token: Type.String({ pattern: '^[A-Za-z0-9_-]{20,64}$' }) });
const SubscribeBody = Type.Object(
  {
    email: Type.String({ maxLength: 320 }),
    components: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 })])),
  },
  { additionalProperties: false },
);

/** Seconds a visitor refused by the budget is asked to wait. */
const BUSY_RETRY_S = 5;
const BUSY_BODY = Buffer.from('The status page is busy: try again in a few seconds.\n');
const BUSY_HEADERS = Object.entries({
  ...STATUS_SECURITY_HEADERS,
  'retry-after': String(BUSY_RETRY_S),
  'cache-control': 'no-store',
  'content-type': 'text/plain; charset=utf-8',
  'content-length': String(BUSY_BODY.length),
}).flat();

/**
 * The address a request comes from: the peer's, or, when the peer is a trusted proxy, the last
 * address in X-Forwarded-For that is not one (each proxy appends the address it was reached from;
 * what a client wrote itself stands to the left and is not believed).
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: (a: string) => boolean) {
  if (!peer || !trusted(peer) || forwardedFor === undefined) return peer ?? '';
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((h) => h.trim())
    .filter((h) => isIP(h));
  for (let i = hops.length - 1; i >= 0; i--) if (!trusted(hops[i]!)) return hops[i]!;
  return hops[0] ?? peer;
}

/**
 * Who a subscribe request comes from, for its limits: the IPv4 address, or the /64 of an IPv6 one
 * (what one host or one customer line is given: counting each of its addresses would count nothing).
 */
export function subscribeClient(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (v4) return v4[1]!;
  if (!ip.includes(':')) return ip;
  const [head, tail] = ip.split('%')[0]!.toLowerCase().split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * /status and what hangs below it, public and read-only (docs/status-page.md): no sign-in, no
 * session, no cookie. Each answer is rendered, compressed and hashed once per snapshot and carries
 * an ETag and a short max-age, so a crowd during an outage costs one store read every few seconds
 * and a cheap write per request (status-answers.ts). The subscription forms are the only writes,
 * bounded per client and per address, and their answers never say whether an address was known.
 */
export const statusRoutes: FastifyPluginAsyncTypebox<StatusRoutesOptions> = async (app, opts) => {
  const { status, budget } = opts;
  const rendered = new WeakMap<StatusSnapshot, Map<string, PreparedAnswer>>();
  const render = (s: StatusSnapshot, kind: string, type: string, make: () => string): PreparedAnswer => {
    let byKind = rendered.get(s);
    if (!byKind) rendered.set(s, (byKind = new Map()));
    let r = byKind.get(kind);
    if (!r) byKind.set(kind, (r = prepareAnswer(make(), type)));
    return r;
  };
  const offer = () => ({ open: status.subscriptionsOpen, components: status.config.components });
  const base = () => status.base();
  // The answers a crowd asks for, written straight to the socket: no hook, no serializer, no
  // request log line (a crowd would bury the log, and each line costs the webhooks' loop).
  const cached =
    (kind: () => string, type: string, make: (s: StatusSnapshot) => string) => async (req: FastifyRequest, reply: FastifyReply) => {
      if (budget) {
        const turn = budget.admit();
        if (turn !== true && !(await turn)) {
          reply.hijack();
          reply.raw.writeHead(503, BUSY_HEADERS);
          reply.raw.end(BUSY_BODY);
          return;
        }
      }
      const s = await status.snapshot();
      const answer = render(s, kind(), type, () => make(s));
      reply.hijack();
      writeAnswer(req.headers, reply.raw, answer);
    };
  const quiet = { logLevel: 'warn' } as const;
  // The subscribe form's offer is part of the page: it is in the key, so a change shows.
  app.get(
    '/status',
    quiet,
    cached(
      () => `html:${offer().open}`,
      'text/html; charset=utf-8',
      (s) => statusPageHtml(s, offer()),
    ),
  );
  app.get(
    '/status/feed.atom',
    quiet,
    cached(
      () => 'atom',
      'application/atom+xml; charset=utf-8',
      (s) => atomFeed(s, base()),
    ),
  );
  app.get(
    '/status/feed.rss',
    quiet,
    cached(
      () => 'rss',
      'application/rss+xml; charset=utf-8',
      (s) => rssFeed(s, base()),
    ),
  );
  app.get(
    '/status/summary.json',
    quiet,
    cached(
      () => 'json',
      'application/json; charset=utf-8',
      (s) => JSON.stringify(jsonSummary(s, base())),
    ),
  );

  // The stylesheet and the subscription's steps, in a scope of their own: forms parsed, origins checked.
  await app.register(forms, opts);
};

const forms: FastifyPluginAsyncTypebox<StatusRoutesOptions> = async (app, opts) => {
  const { status } = opts;
  const trusted = trustedProxies(opts.trustedProxies ?? []);
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  app.removeContentTypeParser(['application/json', 'text/plain']);
  // RFC 8058: a mail provider's one-click POST may come as multipart/form-data; its body says nothing the URL does not.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, _body, done) => done(null, {}));
  // A form posted from another site is refused (a browser always says where it came from); a mail
  // provider's one-click POST has no Origin at all.
  app.addHook('onRequest', async (req, reply) => {
    reply.headers(STATUS_SECURITY_HEADERS);
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const origin = req.headers.origin;
    const own = `${req.protocol}://${req.headers.host}`;
    if ((origin !== undefined && origin !== own && !opts.origins.includes(origin)) || req.headers['sec-fetch-site'] === 'cross-site') {
      req.log.warn({ origin }, 'status page: a form from another origin refused');
      return reply.code(403).type('text/plain; charset=utf-8').send('request from another origin');
    }
  });
  const page = (reply: FastifyReply, code: number, heading: string, text: string, form?: { action: string; button: string }) =>
    reply
      .code(code)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-robots-tag', 'noindex')
      .send(statusMessagePage(status.config.title, heading, text, form));

  app.get('/status/status.css', async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STATUS_CSS),
  );

  app.post('/status/subscribe', { schema: { body: SubscribeBody } }, async (req, reply) => {
    if (!status.subscriptionsOpen) return page(reply, 404, 'Subscriptions are off', 'This status page does not send e-mail.');
    const { byClient, byEmail } = opts.limiters;
    const client = subscribeClient(clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted));
    const email = req.body.email.trim().toLowerCase();
    const limited = (wait: number) => {
      req.log.warn({ audit: 'status-subscribe-limited', address: client }, 'status page: too many subscribe requests');
      reply.header('retry-after', String(wait));
      return page(reply, 429, 'Too many requests', `Try again in ${Math.ceil(wait / 60)} minute(s).`);
    };
    const wait = byClient.retryAfter(client) ?? byEmail.retryAfter(email);
    if (wait !== undefined) return limited(wait);
    // Every request counts, good or bad: the limits bound the e-mails one client can cause.
    byClient.fail(client);
    byEmail.fail(email);
    const c = req.body.components;
    try {
      // The store counts the client's requests for every replica; the e-mails per address too.
      const shared = await status.subscribe(req.body.email, c === undefined ? null : Array.isArray(c) ? c : [c], client);
      if (shared !== undefined) return limited(shared);
    } catch (err) {
      if (err instanceof StatusInputError) return page(reply, 400, 'Not subscribed', err.message);
      throw err;
    }
    // The same answer whether the address is new, waiting or subscribed: nobody learns which.
    return page(
      reply,
      200,
      'Check your inbox',
      'If this address can be subscribed, an e-mail with a confirmation link is on its way. Nothing is sent before you confirm.',
    );
  });

  // A GET only shows the button: mail scanners follow links, and must not confirm or unsubscribe anyone.
  app.get('/status/confirm/:token', { schema: { params: Token } }, async (req, reply) =>
    page(reply, 200, 'Confirm your subscription', 'Press the button to receive this status page’s updates by e-mail.', {
      action: `/status/confirm/${req.params.token}`,
      button: 'Confirm',
    }),
  );
  app.post('/status/confirm/:token', { schema: { params: Token } }, async (req, reply) =>
    (await status.confirm(req.params.token))
      ? page(reply, 200, 'Subscribed', 'You will receive an e-mail with every update. Each one has a link to unsubscribe.')
      : page(
          reply,
          404,
          'This link has expired',
          'It was used already, or it is more than a week old. Subscribe again from the status page.',
        ),
  );
  app.get('/status/unsubscribe/:token', { schema: { params: Token } }, async (req, reply) =>
    page(reply, 200, 'Unsubscribe', 'Press the button to stop receiving this status page’s updates.', {
      action: `/status/unsubscribe/${req.params.token}`,
      button: 'Unsubscribe',
    }),
  );
  // RFC 8058's one-click POST (body "List-Unsubscribe=One-Click") and the page's button alike.
  app.post('/status/unsubscribe/:token', { schema: { params: Token } }, async (req, reply) => {
    await status.unsubscribe(req.params.token);
    return page(reply, 200, 'Unsubscribed', 'You will receive no more e-mail from this status page.');
  });
};
