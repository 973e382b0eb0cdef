import type { FastifyRequest } from 'fastify';
import type { LoggerOptions } from 'pino';

/**
 * A URL for the log: the path, and each query parameter's name with its value blanked, since a token
 * may have been put there; a path that is a secret (a calendar feed, a status page subscription's
 * confirmation or unsubscribe link) blanked.
 */
export function redactUrl(url: string): string {
  // A calendar feed's secret is its path (calendar apps send no header).
  if (url.startsWith('/calendar/')) return '/calendar/[redacted]';
  // So are the links in a subscriber's e-mails: whoever reads the log must not confirm or unsubscribe them.
  const link = /^\/status\/(confirm|unsubscribe)\//.exec(url);
  if (link) return `/status/${link[1]}/[redacted]`;
  const q = url.indexOf('?');
  if (q < 0) return url;
  const names = url
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => `${pair.split('=')[0]}=[redacted]`);
  return `${url.slice(0, q)}?${names.join('&')}`;
}

/** Pino serializers for the service's log: the request line without query values. */
export const logSerializers = {
  req(req: FastifyRequest) {
    return { method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
  },
};

/**
 * Names whose values never reach a log line: a token, a password, a secret, a URL with credentials
 * in it, a request's Authorization and Cookie headers.
 */
export const SECRET_NAMES: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'password',
  'webhookToken',
  'apiToken',
  'authToken',
  'apiSecret',
  'sessionSecret',
  'clientSecret',
  'slackBotToken',
  'slackSigningSecret',
  'smtpUrl',
  'teamsWebhookUrls',
  'mattermostWebhookUrl',
  'mattermostBotToken',
  'ntfyToken',
  'outgoingWebhooks',
  'twilioAuthToken',
  'twilioApiSecret',
]);

const CENSOR = '[Redacted]';
/** How deep plain objects and arrays are searched (a config section's section's key is at 3). */
const MAX_DEPTH = 6;

/**
 * The logged object with every SECRET_NAMES value blanked, for pino's `formatters.log` (it runs
 * before the serializers): the object itself when nothing is secret, else copies of the parts that
 * are, so that what was logged (a live config, say) is never changed. Searched: plain objects and
 * arrays to MAX_DEPTH; any other object (an Error, a request) for its own keys and its `headers`,
 * since its serializer decides what else of it is written. Pino's own `redact` did less (a list of
 * paths, two levels deep) at more cost: it parsed every path for every key of every line, 4-5% of
 * the event loop in a storm of webhooks.
 */
export function redactSecrets(obj: Record<string, unknown>): Record<string, unknown> {
  return withoutSecrets(obj, 0) as Record<string, unknown>;
}

function withoutSecrets(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const clean = withoutSecrets(item, depth + 1);
      if (clean !== item) (copy ??= [...value])[i] = clean;
    });
    return copy ?? value;
  }
  const o = value as Record<string, unknown>;
  const proto = Object.getPrototypeOf(o) as unknown;
  const plain = proto === Object.prototype || proto === null;
  let copy: Record<string, unknown> | undefined;
  if (plain) {
    for (const key in o) {
      const v = o[key];
      const clean = SECRET_NAMES.has(key) ? (v === undefined ? v : CENSOR) : withoutSecrets(v, depth + 1);
      if (clean !== v) (copy ??= copyOf(o))[key] = clean;
    }
    return copy ?? value;
  }
  for (const name of SECRET_NAMES) if (Object.hasOwn(o, name) && o[name] !== undefined) (copy ??= copyOf(o))[name] = CENSOR;
  if (Object.hasOwn(o, 'headers')) {
    const headers = withoutSecrets(o['headers'], depth + 1);
    if (headers !== o['headers']) (copy ??= copyOf(o))['headers'] = headers;
  }
  return copy ?? value;
}

/** A copy with the same prototype and every own property, an Error's message and stack included. */
function copyOf(o: Record<string, unknown>): Record<string, unknown> {
  const descriptors = Object.getOwnPropertyDescriptors(o);
  for (const d of Object.values(descriptors)) if ('value' in d) d.writable = true;
  return Object.create(Object.getPrototypeOf(o) as object, descriptors) as Record<string, unknown>;
}

/** The options of every logger of the service (the process's, the boot log's, the status listener's). */
export function logOptions(level?: string): LoggerOptions {
  return { ...(level ? { level } : {}), formatters: { log: redactSecrets }, serializers: logSerializers };
}
