import { NotifyError } from '../outbox/channel.js';

/** One HTTP request of a channel that speaks JSON over HTTP (Teams, Mattermost, ntfy, outgoing webhooks). */
export interface HttpRequest {
  /** The channel's name in messages ("Teams", "ntfy"): never the URL, which may be the secret itself. */
  service: string;
  url: string;
  method?: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Aborted at shutdown: the call is cut short and its outcome is unknown. */
  signal: AbortSignal;
  /** The pause after a 429 that gives no Retry-After (ntfy gives none): the service's refill time. */
  rateLimitPauseMs?: number;
}

/** What the server answered with a 2xx. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

// Failures that happen before a request can have been written: the server cannot have it.
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
// How much of a refusal's body a NotifyError quotes (it lands in the timeline): enough for the reason.
const QUOTE = 200;

/**
 * Sends one request and turns every failure into a NotifyError that says whether to retry and
 * whether the server may have it: 429 (with its Retry-After), 408 and 5xx are retried; any other
 * 4xx is permanent; a timeout or a connection lost after the request was written is an unknown
 * outcome. Messages never hold the URL (a Teams or webhook URL is a secret).
 */
export async function httpRequest(r: HttpRequest): Promise<HttpAnswer> {
  let res: Response;
  try {
    res = await fetch(r.url, {
      method: r.method ?? 'POST',
      headers: r.headers,
      body: r.body,
      redirect: 'error',
      signal: AbortSignal.any([AbortSignal.timeout(r.timeoutMs), r.signal]),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const code = e.cause?.code;
    const reason = e.name === 'TimeoutError' ? 'timed out' : e.name === 'AbortError' ? 'aborted' : (code ?? 'connection failed');
    throw new NotifyError(`${r.service} unreachable: ${reason}`, true, { maybeDelivered: !(code && NEVER_SENT.has(code)) });
  }
  let text: string;
  try {
    text = await res.text();
  } catch {
    // The answer was cut off: the status line says what the server did with the request.
    text = '';
  }
  if (res.ok) return { status: res.status, headers: res.headers, text };
  const quoted = quote(text);
  const message = `${r.service} HTTP ${res.status}${quoted ? `: ${quoted}` : ''}`;
  if (res.status === 429)
    throw new NotifyError(message, true, { retryAfterMs: retryAfterMs(res.headers, Date.now()) ?? r.rateLimitPauseMs ?? 1000 });
  if (res.status === 408 || res.status >= 500) {
    // A 502/503/504 or 408 may come from a proxy after the service took the request.
    const unknown = res.status === 408 || (res.status >= 502 && res.status <= 504);
    throw new NotifyError(message, true, { maybeDelivered: unknown, retryAfterMs: retryAfterMs(res.headers, Date.now()) });
  }
  throw new NotifyError(message, false);
}

/** A Retry-After header (seconds, or an HTTP date) in milliseconds from `now`; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The start of a refusal's body on one line, without anything that looks like a URL (it could echo ours). */
function quote(text: string): string {
  const line = text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/https?:\/\/\S+/g, '<url>');
  return line.length > QUOTE ? `${line.slice(0, QUOTE)}…` : line;
}
