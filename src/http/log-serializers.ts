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
 * Names whose values never reach a log line, compared without case: a token, a password, a secret,
 * a URL with credentials in it, a request's Authorization and Cookie headers.
 */
export const SECRET_NAMES: ReadonlySet<string> = new Set(
  [
    'authorization',
    'cookie',
    'password',
    'bearer',
    'webhookToken',
    'apiToken',
    'authToken',
    'apiSecret',
    'sessionSecret',
    'clientSecret',
    'heartbeatTokens',
    'alertmanagerAuth',
    'databaseUrl',
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
  ].map((name) => name.toLowerCase()),
);

const CENSOR = '[Redacted]';
/** How deep plain objects and arrays are searched (a config section's section's key is at 3). */
const MAX_DEPTH = 6;
const isSecret = (key: string) => SECRET_NAMES.has(key.toLowerCase());

/**
 * The logged object with every SECRET_NAMES value blanked, for pino's `formatters.log` (it runs
 * before the serializers; a child logger's bindings are formatted once, by pino, and the service
 * binds only a request id and a thread's name): the object itself when nothing is secret, else
 * copies of the parts that are, so that what was logged (a live config, say) is never changed.
 * Searched: plain objects and arrays to MAX_DEPTH, each once; any other object (an Error, a request)
 * for its own keys and its `headers`, since its serializer decides what else of it is written. A
 * log call never throws for it: an object it cannot read (a getter that throws, a revoked proxy) is
 * logged as `[Unreadable]`. Pino's own `redact` did less (a list of paths, two levels deep) at more
 * cost: it parsed every path for every key of every line, 4-5% of the event loop in a storm.
 */
export function redactSecrets(obj: Record<string, unknown>): Record<string, unknown> {
  try {
    return withoutSecrets(obj, 0, new Map()) as Record<string, unknown>;
  } catch {
    return { unreadable: UNREADABLE };
  }
}

const UNREADABLE = '[Unreadable]';
/** Marks an object being searched: met again below itself, it is a cycle. */
const SEARCHING = Symbol('searching');

/** `value` cleaned; `done` holds what each object searched so far became (the same object, or its copy). */
function withoutSecrets(value: unknown, depth: number, done: Map<object, unknown>): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  const before = done.get(value);
  // A cycle is written as the serializer would write it; an object met twice is cleaned alike.
  if (before === SEARCHING) return '[Circular]';
  if (before !== undefined) return before;
  done.set(value, SEARCHING);
  let clean: unknown = value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const c = withoutSecrets(item, depth + 1, done);
      if (c !== item) (copy ??= [...value])[i] = c;
    });
    clean = copy ?? value;
  } else {
    const o = value as Record<string, unknown>;
    const proto = Object.getPrototypeOf(o) as unknown;
    const plain = proto === Object.prototype || proto === null;
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(o)) {
      if (isSecret(key)) {
        copy = withValue(copy ?? copyOf(o), key, CENSOR);
      } else if (plain || key === 'headers') {
        let v: unknown;
        try {
          v = o[key];
        } catch {
          copy = withValue(copy ?? copyOf(o), key, UNREADABLE);
          continue;
        }
        const c = withoutSecrets(v, depth + 1, done);
        if (c !== v) copy = withValue(copy ?? copyOf(o), key, c);
      }
    }
    clean = copy ?? value;
  }
  done.set(value, clean);
  return clean;
}

/** `copy` with `key` set to `value`, whatever the property was (an accessor, read-only). */
function withValue(copy: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  return Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A copy with the same prototype and every own property (an Error's message and stack too), each one redefinable. */
function copyOf(o: Record<string, unknown>): Record<string, unknown> {
  const descriptors = Object.getOwnPropertyDescriptors(o);
  for (const d of Object.values(descriptors)) d.configurable = true;
  return Object.create(Object.getPrototypeOf(o) as object, descriptors) as Record<string, unknown>;
}

/** The options of every logger of the service (the process's, the boot log's, the status listener's). */
export function logOptions(level?: string): LoggerOptions {
  return { ...(level ? { level } : {}), formatters: { log: redactSecrets }, serializers: logSerializers };
}
