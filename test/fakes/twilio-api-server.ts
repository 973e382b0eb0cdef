import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

// A Twilio-compatible stand-in, in the way of GoAlert's mock Twilio: the REST API the service
// calls (Messages.json, Calls.json, their lists, the account), with Twilio's status codes and
// error bodies, and the other half of Twilio: it fetches the service's TwiML as Twilio does when
// a call is answered, posts status callbacks and inbound texts, and signs every request it makes
// with the auth token exactly as Twilio does (X-Twilio-Signature). A test answers a call and
// presses a key, lets it ring out, replies to a text, or makes the next request hang.

/**
 * Twilio's signature: HMAC-SHA1 keyed by the auth token over the full URL followed by each POST
 * parameter's name and value, sorted by name, in base64.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/** Where the stand-in sends what Twilio would send to the service; by default over HTTP, tests may pass app.inject. */
export type Transport = (
  url: string,
  form: Record<string, string>,
  headers: Record<string, string>,
) => Promise<{ status: number; body: string }>;

export const httpTransport: Transport = async (url, form, headers) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: await res.text() };
};

export interface FakeMessage {
  sid: string;
  to: string;
  from: string;
  body: string;
  status: string;
  statusCallback: string | undefined;
  dateCreated: number;
  /** Real time (Date.now) from which the list endpoint shows it (listLagMs). */
  listedFrom: number;
}

export interface FakeCall {
  sid: string;
  to: string;
  from: string;
  url: string;
  statusCallback: string | undefined;
  status: string;
  dateCreated: number;
  /** Real time (Date.now) from which the list endpoint shows it (listLagMs). */
  listedFrom: number;
  /** What the call said, each TwiML answer's <Say> texts in order. */
  heard: string[];
  /** The current <Gather>'s action, while it waits for a key. */
  gatherAction: string | undefined;
  /** Whether the call ended in the last step. */
  ended: boolean;
}

/** What the next create requests do instead of answering 201. */
export type Failure = { status: 400 | 401 | 404 | 429 | 500 | 503; code?: number; message?: string; retryAfter?: number } | { hang: true };

/** Parsed TwiML: each verb as far as a test reads it. */
export interface Twiml {
  says: string[];
  gather: { action: string } | undefined;
  redirect: string | undefined;
  messages: string[];
  hangup: boolean;
}

const unescape = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

export function parseTwiml(xml: string): Twiml {
  const says = [...xml.matchAll(/<Say[^>]*>([\s\S]*?)<\/Say>/g)].map((m) => unescape(m[1]!));
  const g = /<Gather\b[^>]*\baction="([^"]*)"/.exec(xml);
  const r = /<Redirect[^>]*>([\s\S]*?)<\/Redirect>/.exec(xml);
  const messages = [...xml.matchAll(/<Message[^>]*>([\s\S]*?)<\/Message>/g)].map((m) => unescape(m[1]!));
  return {
    says,
    gather: g ? { action: unescape(g[1]!) } : undefined,
    redirect: r ? unescape(r[1]!) : undefined,
    messages,
    hangup: /<Hangup\s*\/>/.test(xml),
  };
}

/** Twilio's date format in its JSON (RFC 2822). */
const rfc2822 = (ms: number) => new Date(ms).toUTCString().replace('GMT', '+0000');

export class TwilioApiServer {
  readonly messages: FakeMessage[] = [];
  readonly calls: FakeCall[] = [];
  /** Every REST request, in order: method and path with its query. */
  readonly requests: { method: string; path: string; at: number }[] = [];
  readonly hanging: ServerResponse[] = [];
  /** Numbers that replied STOP: Twilio refuses texts to them (21610). */
  readonly stopped = new Set<string>();
  private readonly failures = new Map<'Messages' | 'Calls', Failure[]>();
  private server: Server | undefined;
  url = '';
  /** The service's inbound-text webhook (a number's "A message comes in" URL). */
  smsUrl: string | undefined;
  transport: Transport = httpTransport;
  /** The time a resource is created at, for the lookups (the service's clock in tests). */
  now: () => number = Date.now;
  /**
   * Twilio's lists are eventually consistent: a call or message it took may be missing from
   * GET Calls.json / Messages.json for a while (usually under a second). Each resource is listed
   * only this many milliseconds of real time after it was created.
   */
  listLagMs = 0;
  /**
   * Posts the `initiated` status of each call as soon as it is created, as Twilio does when the
   * request asks for it (the service's does): the first word of a call Twilio took, list or not.
   */
  initiatedCallback = false;
  /** Hears each text and call as it is created. */
  onMessage: ((m: FakeMessage) => void) | undefined;
  onCall: ((c: FakeCall) => void) | undefined;

  constructor(
    readonly accountSid: string,
    readonly authToken: string,
    readonly numbers: readonly string[],
  ) {}

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next `times` creations of `kind` fail as described (a hang creates the resource all the same: only the answer is lost). */
  failNext(kind: 'Messages' | 'Calls', failure: Failure, times = 1): void {
    this.failures.set(kind, [...(this.failures.get(kind) ?? []), ...Array<Failure>(times).fill(failure)]);
  }

  /** Posts `form` to the service, signed as Twilio signs it. */
  async post(url: string, form: Record<string, string>, signature?: string): Promise<{ status: number; body: string }> {
    return this.transport(url, form, {
      'x-twilio-signature': signature ?? twilioSignature(this.authToken, url, form),
      'user-agent': 'TwilioProxy/1.1',
    });
  }

  // ---- the phone side: what a test makes the person do ----

  /** The person picks up: statuses ringing and in-progress, then the TwiML at the call's URL. */
  async answer(call: FakeCall): Promise<Twiml> {
    await this.callStatus(call, 'ringing');
    await this.callStatus(call, 'in-progress');
    return this.fetchTwiml(call, call.url, {});
  }

  /** The person presses `digit` while a <Gather> waits; the call ends when the TwiML says no more. */
  async press(call: FakeCall, digit: string): Promise<Twiml> {
    if (!call.gatherAction) throw new Error(`call ${call.sid} is not waiting for a key`);
    const twiml = await this.fetchTwiml(call, call.gatherAction, { Digits: digit });
    if (call.ended) await this.callStatus(call, 'completed');
    return twiml;
  }

  /** The person lets it ring out (Twilio's no-answer), or the line is busy. */
  async ringOut(call: FakeCall, status: 'no-answer' | 'busy' | 'failed' = 'no-answer'): Promise<void> {
    await this.callStatus(call, 'ringing');
    await this.callStatus(call, status);
  }

  /** The person hangs up without pressing a key. */
  async hangUp(call: FakeCall): Promise<void> {
    call.ended = true;
    await this.callStatus(call, 'completed');
  }

  /** The text is delivered to the phone (statuses sent, delivered). */
  async deliver(m: FakeMessage, status: 'delivered' | 'undelivered' = 'delivered'): Promise<void> {
    for (const s of ['sent', status]) {
      m.status = s;
      if (m.statusCallback)
        await this.post(m.statusCallback, {
          AccountSid: this.accountSid,
          MessageSid: m.sid,
          SmsSid: m.sid,
          MessageStatus: s,
          SmsStatus: s,
          To: m.to,
          From: m.from,
        });
    }
  }

  /** The person texts `body` from `from` to our number; the service's answer (its <Message>s). */
  async reply(from: string, body: string, signature?: string): Promise<{ status: number; messages: string[] }> {
    if (!this.smsUrl) throw new Error('no inbound SMS URL set');
    if (/^\s*stop\s*$/i.test(body)) this.stopped.add(from);
    if (/^\s*start\s*$/i.test(body)) this.stopped.delete(from);
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const form = { AccountSid: this.accountSid, MessageSid: sid, SmsSid: sid, From: from, To: this.numbers[0]!, Body: body, NumMedia: '0' };
    const r = await this.post(this.smsUrl, form, signature);
    return { status: r.status, messages: r.status === 200 ? parseTwiml(r.body).messages : [] };
  }

  private async callStatus(call: FakeCall, status: string): Promise<void> {
    call.status = status;
    if (!call.statusCallback) return;
    await this.post(call.statusCallback, {
      AccountSid: this.accountSid,
      CallSid: call.sid,
      CallStatus: status,
      To: call.to,
      From: call.from,
      Direction: 'outbound-api',
    });
  }

  /** Fetches TwiML as Twilio does (a signed POST), following a <Redirect> as it would. */
  private async fetchTwiml(call: FakeCall, url: string, extra: Record<string, string>): Promise<Twiml> {
    const r = await this.post(url, {
      AccountSid: this.accountSid,
      CallSid: call.sid,
      CallStatus: 'in-progress',
      To: call.to,
      From: call.from,
      Direction: 'outbound-api',
      ...extra,
    });
    if (r.status !== 200) throw new Error(`TwiML at ${url} answered ${r.status}: ${r.body}`);
    const twiml = parseTwiml(r.body);
    call.heard.push(...twiml.says);
    call.gatherAction = twiml.gather?.action;
    call.ended = !twiml.gather && !twiml.redirect;
    return twiml;
  }

  // ---- the REST side ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? '', path: `${url.pathname}${url.search}`, at: performance.now() });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, code: number, message: string, headers: Record<string, string> = {}) =>
      json(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, headers);

    const prefix = `/2010-04-01/Accounts/${this.accountSid}`;
    if (!this.authorized(req.headers.authorization)) return error(401, 20003, 'Authenticate');
    if (!url.pathname.startsWith(prefix)) return error(404, 20404, 'The requested resource was not found');
    const rest = url.pathname.slice(prefix.length);
    if (req.method === 'GET' && rest === '.json')
      return json(200, { sid: this.accountSid, status: 'active', friendly_name: 'Stand-in account', type: 'Full' });

    const kind = rest === '/Messages.json' ? 'Messages' : rest === '/Calls.json' ? 'Calls' : undefined;
    if (!kind) return error(404, 20404, 'The requested resource was not found');
    if (req.method === 'GET') {
      const to = url.searchParams.get('To');
      const from = url.searchParams.get('From');
      const size = Number(url.searchParams.get('PageSize') ?? 50);
      const listed = Date.now();
      const all = (kind === 'Messages' ? this.messages : this.calls).filter(
        (r) => (!to || r.to === to) && (!from || r.from === from) && r.listedFrom <= listed,
      );
      const page = [...all]
        .sort((a, b) => b.dateCreated - a.dateCreated)
        .slice(0, size)
        .map((r) => this.resource(r));
      return json(200, { [kind === 'Messages' ? 'messages' : 'calls']: page, page: 0, page_size: size, next_page_uri: null });
    }
    if (req.method !== 'POST') return error(405, 20004, 'Method not allowed');

    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const to = form['To'] ?? '';
    const from = form['From'] ?? '';
    if (!/^\+[1-9][0-9]{6,14}$/.test(to))
      return error(400, kind === 'Messages' ? 21211 : 13224, `The 'To' number ${to} is not a valid phone number.`);
    if (!this.numbers.includes(from))
      return error(
        400,
        kind === 'Messages' ? 21606 : 21210,
        `The 'From' phone number provided (${from}) is not a valid message-capable Twilio phone number for this destination.`,
      );
    if (kind === 'Messages' && !form['Body']) return error(400, 21602, 'Message body is required.');
    if (kind === 'Messages' && this.stopped.has(to)) return error(400, 21610, 'Attempt to send to unsubscribed recipient');
    if (kind === 'Calls' && !form['Url']) return error(400, 21205, 'Url parameter is required.');

    const failure = this.failures.get(kind)?.shift();
    if (failure && !('hang' in failure))
      return error(
        failure.status,
        failure.code ?? (failure.status === 429 ? 20429 : 20500),
        failure.message ?? 'failure on demand',
        failure.retryAfter ? { 'retry-after': String(failure.retryAfter) } : {},
      );
    const created = kind === 'Messages' ? this.createMessage(form) : this.createCall(form);
    if (failure) {
      // Twilio took it; the answer is lost.
      this.hanging.push(res);
      return;
    }
    json(201, this.resource(created));
  }

  private createMessage(form: Record<string, string>): FakeMessage {
    const m: FakeMessage = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      to: form['To']!,
      from: form['From']!,
      body: form['Body']!,
      status: 'queued',
      statusCallback: form['StatusCallback'],
      dateCreated: this.now(),
      listedFrom: Date.now() + this.listLagMs,
    };
    this.messages.push(m);
    this.onMessage?.(m);
    return m;
  }

  private createCall(form: Record<string, string>): FakeCall {
    const c: FakeCall = {
      sid: `CA${randomBytes(16).toString('hex')}`,
      to: form['To']!,
      from: form['From']!,
      url: form['Url']!,
      statusCallback: form['StatusCallback'],
      status: 'queued',
      dateCreated: this.now(),
      listedFrom: Date.now() + this.listLagMs,
      heard: [],
      gatherAction: undefined,
      ended: false,
    };
    this.calls.push(c);
    this.onCall?.(c);
    if (this.initiatedCallback) setImmediate(() => void this.callStatus(c, 'initiated').catch(() => undefined));
    return c;
  }

  private resource(r: FakeMessage | FakeCall) {
    return {
      sid: r.sid,
      account_sid: this.accountSid,
      to: r.to,
      from: r.from,
      status: r.status,
      date_created: rfc2822(r.dateCreated),
      date_updated: rfc2822(r.dateCreated),
      ...('body' in r
        ? { body: r.body, num_segments: String(Math.ceil(r.body.length / 160)), direction: 'outbound-api', date_sent: null }
        : { direction: 'outbound-api', start_time: null }),
      uri: `/2010-04-01/Accounts/${this.accountSid}/${'body' in r ? 'Messages' : 'Calls'}/${r.sid}.json`,
    };
  }

  private authorized(header: string | undefined): boolean {
    if (!header?.startsWith('Basic ')) return false;
    const [user, pass] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    return user === this.accountSid && pass === this.authToken;
  }
}
