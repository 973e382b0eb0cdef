import { createHash, randomBytes } from 'node:crypto';

// Personal API tokens: `tri_<prefix>_<secret>`. The prefix (8 hex digits) is public: it names the
// token on /me and is the account a wrong secret is counted against; the secret is 256 random bits,
// so SHA-256 alone is a safe digest to keep (no salt or slow hash needed for a secret no one chose).

const TOKEN = /^tri_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

/** A new token and what the store keeps of it. */
export function makePersonalToken(): { token: string; prefix: string; hash: string } {
  const prefix = `tri_${randomBytes(4).toString('hex')}`;
  const token = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, prefix, hash: tokenHash(token) };
}

/** The digest a token is stored and looked up by. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The public prefix of something shaped like a personal token, else undefined. */
export function personalTokenPrefix(presented: string): string | undefined {
  const m = TOKEN.exec(presented);
  return m ? `tri_${m[1]}` : undefined;
}
