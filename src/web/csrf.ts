import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * CSRF tokens bound to who is there: an HMAC, with the session secret, of the session (its id's
 * digest) or, before sign-in, of a random pre-session cookie. So a token from before sign-in, or
 * from another person's session, is refused, and a token needs no storage of its own.
 */
export function csrfToken(secret: string, binding: string): string {
  return createHmac('sha256', secret).update(`csrf\n${binding}`, 'utf8').digest('base64url');
}

/** Whether `presented` is the token for `binding`, compared in constant time. */
export function csrfMatches(secret: string, binding: string, presented: string | undefined): boolean {
  if (typeof presented !== 'string') return false;
  const want = Buffer.from(csrfToken(secret, binding));
  const got = Buffer.from(presented);
  return got.length === want.length && timingSafeEqual(got, want);
}
