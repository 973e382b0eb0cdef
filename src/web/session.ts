import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Contact } from '../paging/paging-config.js';

/** Who is signed in: the name shown and recorded, and the contact id when the person is a known contact. */
export interface Viewer {
  name: string;
  contact?: string | undefined;
}

/** How the pages know who is there: the built-in form with the API token, or an authenticating proxy's header. */
export type WebAuth = { mode: 'form' } | { mode: 'proxy'; header: string; trusted: readonly string[] };

/** What the session cookie holds; signed by @fastify/cookie, so it cannot be forged without the secret. */
interface SessionData {
  n: string;
  c?: string;
  /** Expiry, epoch ms: checked here, not only by the browser. */
  e: number;
}

/** The cookie's value for a viewer signed in until `expires`. */
export function encodeSession(v: Viewer, expires: number): string {
  const data: SessionData = { n: v.name, ...(v.contact ? { c: v.contact } : {}), e: expires };
  return Buffer.from(JSON.stringify(data), 'utf8').toString('base64url');
}

/** The viewer of a verified cookie value, or undefined when it is malformed or expired. */
export function decodeSession(value: string, now: number): Viewer | undefined {
  try {
    const d = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<SessionData>;
    if (typeof d.n !== 'string' || !d.n || typeof d.e !== 'number' || d.e <= now) return undefined;
    return { name: d.n, ...(typeof d.c === 'string' ? { contact: d.c } : {}) };
  } catch {
    return undefined;
  }
}

/** The contact a signed-in name or e-mail address is, by id, name or e-mail (case-insensitive). */
export function matchContact(contacts: readonly Contact[], who: string): Contact | undefined {
  const w = who.trim().toLowerCase();
  return contacts.find((c) => c.id.toLowerCase() === w || c.name.toLowerCase() === w || c.email?.toLowerCase() === w);
}

/** The viewer for a name or e-mail: the contact's own name and id when it is one. */
export function viewerFor(contacts: readonly Contact[], who: string): Viewer {
  const c = matchContact(contacts, who);
  return c ? { name: c.name, contact: c.id } : { name: who.trim() };
}

/**
 * A test for the proxy addresses whose identity header is believed: IPs and CIDR ranges, v4 or v6
 * (an IPv4 peer seen as ::ffff:a.b.c.d counts as a.b.c.d). Throws on an entry that is neither.
 */
export function trustedProxies(entries: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [ip, bits] = entry.split('/');
    const type = isIPv4(ip ?? '') ? 'ipv4' : isIPv6(ip ?? '') ? 'ipv6' : undefined;
    const prefix = bits === undefined ? undefined : Number(bits);
    if (!type || (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= (type === 'ipv4' ? 32 : 128)))) {
      throw new Error(`"${entry}" is not an IP address or a CIDR range`);
    }
    if (prefix === undefined) list.addAddress(ip!, type);
    else list.addSubnet(ip!, prefix, type);
  }
  return (address) => {
    if (!address) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const ip = mapped ?? address;
    return list.check(ip, isIPv4(ip) ? 'ipv4' : 'ipv6');
  };
}
