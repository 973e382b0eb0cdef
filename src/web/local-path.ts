// Where to go back to after signing in: the `next` of /sign-in, from the query string or the form,
// so from anyone. It becomes a Location header, which must stay on this site and which Node
// refuses (a 500) when it holds a character outside Latin-1.

const FALLBACK = '/incidents';

/** A character a Location header carries as is: printable ASCII. */
const PRINTABLE_ASCII = /[\x21-\x7e]/;

/** UTF-8 percent-encoding of one character; a lone surrogate becomes U+FFFD, never an exception. */
const percentEncode = (c: string) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/**
 * A path on this site, ready for a Location header; anything else is /incidents. Refused: another
 * host (`//x`, `/\x`, `https://x`), and any whitespace or control character (a browser drops a tab
 * or a newline, so `/\t/x` would become `//x`). Other characters outside printable ASCII (`/ā`)
 * are percent-encoded as UTF-8, as a browser sends them; existing `%xx` escapes are kept.
 */
export function localPath(next: string | undefined): string {
  if (!next || !/^\/(?![/\\])[^\s\p{Cc}]*$/u.test(next)) return FALLBACK;
  return next.replace(/[^]/gu, (c) => (PRINTABLE_ASCII.test(c) ? c : percentEncode(c)));
}
