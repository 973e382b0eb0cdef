import type { FastifyRequest } from 'fastify';

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
