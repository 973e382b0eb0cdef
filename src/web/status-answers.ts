import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

// The cached answers of /status and its feeds, made as cheap to send as they can be: a crowd of
// visitors during an outage costs the event loop that also takes the webhooks (docs/status-page.md
// "Load"). Each body is encoded, compressed (gzip, brotli) and hashed once per snapshot, and its
// headers are one array written as is; an answer is a lookup, a string compare and one write.

/** How long a browser or a proxy may keep /status and its feeds: short, so an update shows within a minute. */
export const STATUS_MAX_AGE_S = 15;

/**
 * The security headers of every public status answer (the status page has no script, no frame and
 * no form elsewhere): what helmet set with the same CSP, written once here so that a cached answer
 * does not run helmet's dozen hooks per request.
 */
export const STATUS_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none';style-src 'self';img-src 'self';form-action 'self';frame-ancestors 'none';base-uri 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

type Encoding = 'br' | 'gzip' | 'identity';

/** One rendered answer, ready to write: its ETag, and its body and header lines per encoding. */
export interface PreparedAnswer {
  readonly etag: string;
  readonly bodies: Readonly<Record<Encoding, Buffer>>;
  readonly ok: Readonly<Record<Encoding, readonly string[]>>;
  readonly notModified: readonly string[];
}

const flat = (headers: Record<string, string>) => Object.entries(headers).flat();

/** The ETag of a body: the same text gives the same tag on every replica and every listener. */
export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** Encodes, compresses and hashes `body` once, with the headers of each way it can be sent. */
export function prepareAnswer(body: string, type: string): PreparedAnswer {
  const etag = etagOf(body);
  const identity = Buffer.from(body, 'utf8');
  const bodies: Record<Encoding, Buffer> = {
    identity,
    gzip: gzipSync(identity, { level: 9 }),
    // Quality 4 of 11: under a millisecond for the 21 kB page, 929 bytes (quality 9: 42 ms, 863 bytes).
    br: brotliCompressSync(identity, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: identity.length },
    }),
  };
  const common = {
    ...STATUS_SECURITY_HEADERS,
    etag,
    'cache-control': `public, max-age=${STATUS_MAX_AGE_S}`,
    vary: 'accept-encoding',
    'x-robots-tag': 'noarchive',
  };
  const ok = (e: Encoding) =>
    flat({
      ...common,
      'content-type': type,
      ...(e === 'identity' ? {} : { 'content-encoding': e }),
      'content-length': String(bodies[e].length),
    });
  return { etag, bodies, ok: { identity: ok('identity'), gzip: ok('gzip'), br: ok('br') }, notModified: flat(common) };
}

/**
 * The encoding to send for an Accept-Encoding header: brotli, else gzip, else none. A coding the
 * client refuses with q=0 is not sent; other weights are not compared (both are fine to every client).
 */
export function chooseEncoding(accept: string | undefined): Encoding {
  if (!accept) return 'identity';
  // A crowd sends a handful of distinct headers (one per browser): each is parsed once.
  const known = seen.get(accept);
  if (known) return known;
  const e = parseAcceptEncoding(accept);
  if (seen.size >= 256) seen.clear();
  seen.set(accept, e);
  return e;
}

const seen = new Map<string, Encoding>();

function parseAcceptEncoding(accept: string): Encoding {
  let br = false;
  let gzip = false;
  for (const part of accept.split(',')) {
    const [name = '', ...params] = part.split(';');
    const coding = name.trim().toLowerCase();
    const refused = params.some((p) => /^\s*q\s*=\s*0(?:\.0{0,3})?\s*$/i.test(p));
    if (coding === 'br') br = !refused;
    else if (coding === 'gzip' || coding === 'x-gzip') gzip = !refused;
  }
  return br ? 'br' : gzip ? 'gzip' : 'identity';
}

/** Whether an If-None-Match header names this ETag (weakly, as RFC 9110 asks for a GET), or is `*`. */
export function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch === etag || ifNoneMatch === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** Writes a prepared answer: a 304 to a client that has it, else the body in the encoding it takes. */
export function writeAnswer(headers: IncomingHttpHeaders, res: ServerResponse, answer: PreparedAnswer): void {
  if (matches(headers['if-none-match'], answer.etag)) {
    res.writeHead(304, answer.notModified as string[]);
    res.end();
    return;
  }
  const e = chooseEncoding(headers['accept-encoding']);
  res.writeHead(200, answer.ok[e] as string[]);
  // A HEAD request's answer has no body: Node leaves it out.
  res.end(answer.bodies[e]);
}
