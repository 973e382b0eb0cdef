import { NotifyError } from '../../outbox/channel.js';

// Twilio's REST API (2010-04-01) through plain fetch: the `twilio` package's client is bound to
// api.twilio.com, and its own retries would hide the outcome the outbox must decide on. The base
// URL is configurable (TWILIO_API_URL) so that tests, and a local trial, run against a stand-in.

export const TWILIO_API_URL = 'https://api.twilio.com';

/** The credentials and numbers of the Twilio account, all from the environment; never logged. */
export interface TwilioCredentials {
  accountSid: string;
  /** The account's auth token: it signs Twilio's webhooks, and authenticates the REST calls unless an API key is given. */
  authToken?: string | undefined;
  /** An API key (SK…) and its secret, for the REST calls instead of the auth token. */
  apiKey?: string | undefined;
  apiSecret?: string | undefined;
  apiUrl?: string | undefined;
  timeoutMs?: number | undefined;
}

/** A call or message resource, as far as the service reads it. */
export interface TwilioResource {
  sid: string;
  status: string;
  to: string;
  from: string;
  body?: string;
  date_created: string | null;
  error_code?: number | null;
}

/**
 * Twilio error codes that say the number itself will not take pages (an invalid number, a
 * landline for a text, a STOP the recipient sent): the method is marked failed, not retried.
 */
export const NUMBER_FAILURES: ReadonlyMap<number, string> = new Map([
  [21211, 'not a valid phone number'],
  [21214, 'not a number that can be reached'],
  [21217, 'not a valid phone number'],
  [21401, 'not a valid phone number'],
  [21407, 'not a number this account may call or text'],
  [21408, 'the account may not reach this region'],
  [21610, 'the recipient replied STOP'],
  [21612, 'not a number this sender can text'],
  [21614, 'not a mobile number'],
  [13223, 'not a valid phone number'],
  [13224, 'not a valid phone number'],
  [13226, 'not a number that can be called'],
]);

/** A refusal from Twilio, with its error code when it gave one. */
export class TwilioError extends NotifyError {
  constructor(
    message: string,
    retryable: boolean,
    readonly status: number,
    readonly code: number | undefined,
    details: ConstructorParameters<typeof NotifyError>[2] = {},
  ) {
    super(message, retryable, details);
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** The few calls the phone channels make. */
export class TwilioApi {
  private readonly base: string;
  private readonly auth: string;
  private readonly timeoutMs: number;
  private readonly controllers = new Set<AbortController>();
  private aborted = false;

  constructor(private readonly creds: TwilioCredentials) {
    this.base = `${(creds.apiUrl ?? TWILIO_API_URL).replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(creds.accountSid)}`;
    const user = creds.apiKey ?? creds.accountSid;
    const secret = creds.apiKey ? (creds.apiSecret ?? '') : (creds.authToken ?? '');
    this.auth = `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
    this.timeoutMs = creds.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** POST Messages.json. */
  createMessage(p: { to: string; from: string; body: string; statusCallback?: string | undefined }): Promise<TwilioResource> {
    return this.request('POST', '/Messages.json', { To: p.to, From: p.from, Body: p.body, StatusCallback: p.statusCallback });
  }

  /** POST Calls.json: Twilio fetches the TwiML at `url` when the call is answered. */
  createCall(p: {
    to: string;
    from: string;
    url: string;
    statusCallback?: string | undefined;
    timeoutS?: number;
  }): Promise<TwilioResource> {
    return this.request('POST', '/Calls.json', {
      To: p.to,
      From: p.from,
      Url: p.url,
      Method: 'POST',
      StatusCallback: p.statusCallback,
      StatusCallbackMethod: 'POST',
      // Each status: the page's outcome shows as it happens (ringing, answered, no answer).
      StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      Timeout: String(p.timeoutS ?? 30),
    });
  }

  /**
   * The most recent messages (or calls) to `to` from `from`, newest first. Not filtered by
   * DateSent or StartTime: a message still queued has no date sent, and a call not yet started no
   * start time, and those are exactly the ones a lookup after a lost answer must find.
   */
  async recent(kind: 'Messages' | 'Calls', to: string, from: string): Promise<TwilioResource[]> {
    const q = new URLSearchParams({ To: to, From: from, PageSize: '50' });
    const r = await this.request<{ messages?: TwilioResource[]; calls?: TwilioResource[] }>('GET', `/${kind}.json?${q.toString()}`);
    return (kind === 'Messages' ? r.messages : r.calls) ?? [];
  }

  /** GET Accounts/{sid}.json: one read-only call that proves the credentials (doctor). */
  account(): Promise<{ sid: string; status: string; friendly_name?: string }> {
    return this.request('GET', '.json');
  }

  /** Cancels every call in flight (shutdown): their outcome is unknown. */
  abort(): void {
    this.aborted = true;
    for (const c of this.controllers) c.abort();
  }

  private async request<T = TwilioResource>(
    method: 'GET' | 'POST',
    path: string,
    form?: Record<string, string | string[] | undefined>,
  ): Promise<T> {
    if (this.aborted) throw new NotifyError('shutting down', true);
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form ?? {}))
      for (const one of v === undefined ? [] : Array.isArray(v) ? v : [v]) body.append(k, one);
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: this.auth,
          accept: 'application/json',
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(form ? { body: body.toString() } : {}),
        signal: controller.signal,
      });
      text = await res.text();
    } catch (err) {
      // The request may have reached Twilio (a timeout, a reset after it was written): a POST's
      // outcome is unknown, so the page is looked up before it is placed again.
      const reason = controller.signal.aborted
        ? `no answer from Twilio within ${this.timeoutMs} ms`
        : `Twilio unreachable: ${(err as Error).message}`;
      throw new TwilioError(reason, true, 0, undefined, { maybeDelivered: method === 'POST' });
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
    if (res.ok) {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new TwilioError(`Twilio answered ${res.status} with a body that is not JSON`, true, res.status, undefined, {
          maybeDelivered: method === 'POST',
        });
      }
    }
    let code: number | undefined;
    let message = `HTTP ${res.status}`;
    try {
      const e = JSON.parse(text) as { code?: number; message?: string };
      code = typeof e.code === 'number' ? e.code : undefined;
      if (typeof e.message === 'string') message = `${e.message.slice(0, 300)} (Twilio ${code ?? res.status})`;
    } catch {
      // Not Twilio's JSON (a proxy's page): the status says enough.
    }
    if (res.status === 429) {
      const after = Number(res.headers.get('retry-after'));
      return Promise.reject(
        new TwilioError(`rate limited by Twilio: ${message}`, true, 429, code, {
          retryAfterMs: Number.isFinite(after) && after > 0 ? after * 1000 : 1000,
        }),
      );
    }
    // A 5xx may come after Twilio took the request: looked up before it is placed again.
    if (res.status >= 500)
      throw new TwilioError(`Twilio failed: ${message}`, true, res.status, code, { maybeDelivered: method === 'POST' });
    throw new TwilioError(`Twilio refused: ${message}`, false, res.status, code);
  }
}
