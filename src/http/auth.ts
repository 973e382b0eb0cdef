import { hash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => hash('sha256', s, 'buffer');
/** The configured tokens' digests, made once: every webhook is checked against the same one. */
const tokenDigests = new Map<string, Buffer>();
const tokenDigest = (token: string): Buffer => {
  let d = tokenDigests.get(token);
  if (!d) tokenDigests.set(token, (d = digest(token)));
  return d;
};

/**
 * Checks an Authorization header against a token in constant time: `Bearer <token>`, or, when
 * `allowBasic` (Alertmanager's http_config can send basic auth), `Basic` with the token as password.
 * Hashing both sides first makes the comparison independent of the lengths too.
 */
export function authorizationMatches(header: string | undefined, token: string, allowBasic: boolean): boolean {
  if (!header) return false;
  const space = header.indexOf(' ');
  if (space < 0) return false;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  let presented: string | undefined;
  if (scheme === 'bearer') {
    presented = value;
  } else if (scheme === 'basic' && allowBasic) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    presented = colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return presented !== undefined && timingSafeEqual(digest(presented), tokenDigest(token));
}
