/** One matcher of an Alertmanager silence, as its API v2 writes it. */
export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}

/** A silence as Alertmanager's GET /api/v2/silences lists it. */
export interface Silence {
  id: string;
  status: { state: 'active' | 'pending' | 'expired' };
  matchers: SilenceMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** An alert as Alertmanager's GET /api/v2/alerts lists it (the fields read here). */
export interface AmAlert {
  fingerprint: string;
  labels: Record<string, string>;
  status: { state: 'active' | 'suppressed' | 'unprocessed' };
}

/** A new silence for POST /api/v2/silences. */
export interface NewSilence {
  matchers: SilenceMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** Alertmanager answered, and said no (a 4xx, or an error of its own): another peer would say the same. */
export class AlertmanagerRefused extends Error {
  override name = 'AlertmanagerRefused';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** No peer answered (refused, timed out, 5xx): the message names each peer's failure, never its credentials. */
export class AlertmanagerUnavailable extends Error {
  override name = 'AlertmanagerUnavailable';
}

/** Credentials for Alertmanager's API, from the environment (ALERTMANAGER_BEARER_TOKEN, or ALERTMANAGER_USERNAME and _PASSWORD). */
export type AlertmanagerAuth = { bearer: string } | { username: string; password: string } | undefined;

export interface SilencesClientOptions {
  auth?: AlertmanagerAuth;
  /** How long one request to one peer may take before the next peer is tried (default 5 s). */
  timeoutMs?: number;
}

/**
 * Alertmanager's silences through its API v2, on an HA cluster: each call goes to the first peer
 * that answers and falls back to the next on a refused connection, a timeout or a 5xx (the peers
 * gossip silences to each other, so any peer will do). A 4xx is Alertmanager's answer, not the
 * peer's failure, and is not retried elsewhere. A create that timed out on one peer may still have
 * been made there: the next peer then makes a second one (at least once).
 */
export class SilencesClient {
  constructor(private readonly options: SilencesClientOptions = {}) {}

  async create(peers: readonly string[], silence: NewSilence): Promise<{ id: string; peer: string }> {
    const { body, peer } = await this.call(peers, 'POST', '/api/v2/silences', silence);
    const id = (body as { silenceID?: unknown }).silenceID;
    if (typeof id !== 'string') throw new AlertmanagerRefused(`${peer} answered without a silenceID`, 502);
    return { id, peer };
  }

  async list(peers: readonly string[]): Promise<Silence[]> {
    const { body } = await this.call(peers, 'GET', '/api/v2/silences');
    return Array.isArray(body) ? (body as Silence[]) : [];
  }

  /** Every alert Alertmanager holds now (active, silenced and inhibited alike). */
  async alerts(peers: readonly string[]): Promise<AmAlert[]> {
    const { body } = await this.call(peers, 'GET', '/api/v2/alerts');
    if (!Array.isArray(body)) return [];
    // Labels are hostile: kept as text in null-prototype objects, so a matcher on "constructor" reads no inherited member.
    return (body as Partial<AmAlert>[])
      .filter((a) => a && typeof a.labels === 'object' && a.labels !== null)
      .map((a) => ({
        fingerprint: String(a.fingerprint ?? ''),
        status: { state: a.status?.state ?? 'active' },
        labels: Object.assign(
          Object.create(null) as Record<string, string>,
          Object.fromEntries(Object.entries(a.labels!).filter(([, v]) => typeof v === 'string')),
        ),
      }));
  }

  /** Expires a silence; one already expired counts as expired. */
  async expire(peers: readonly string[], id: string): Promise<void> {
    try {
      await this.call(peers, 'DELETE', `/api/v2/silence/${encodeURIComponent(id)}`);
    } catch (err) {
      // Alertmanager answers 500 "silence … already expired" (0.25) for a second expiry.
      if (err instanceof AlertmanagerUnavailable && /already expired/.test(err.message)) return;
      throw err;
    }
  }

  private async call(peers: readonly string[], method: string, path: string, json?: unknown): Promise<{ body: unknown; peer: string }> {
    if (peers.length === 0) throw new AlertmanagerUnavailable('no Alertmanager to ask: set alertmanager.urls in the config');
    const failures: string[] = [];
    for (const base of peers) {
      const peer = safeName(base);
      let res: Response;
      try {
        res = await fetch(`${base.replace(/\/+$/, '')}${path}`, {
          method,
          headers: { ...(json === undefined ? {} : { 'content-type': 'application/json' }), ...this.authHeader() },
          body: json === undefined ? null : JSON.stringify(json),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
          redirect: 'error',
        });
      } catch (err) {
        failures.push(
          `${peer}: ${(err as Error).name === 'TimeoutError' ? 'timed out' : ((err as { cause?: { code?: string } }).cause?.code ?? 'unreachable')}`,
        );
        continue;
      }
      const text = await res.text();
      if (res.status >= 500) {
        failures.push(`${peer}: ${res.status} ${text.slice(0, 200).trim()}`);
        continue;
      }
      if (res.status >= 400) throw new AlertmanagerRefused(`${peer} refused: ${res.status} ${text.slice(0, 300).trim()}`, res.status);
      return { body: text ? (JSON.parse(text) as unknown) : null, peer };
    }
    throw new AlertmanagerUnavailable(`no Alertmanager answered (${failures.join('; ')})`);
  }

  private authHeader(): Record<string, string> {
    const auth = this.options.auth;
    if (!auth) return {};
    if ('bearer' in auth) return { authorization: `Bearer ${auth.bearer}` };
    return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
  }
}

/** A peer's address for messages: scheme, host and port, never a user or password written into the URL. */
function safeName(base: string): string {
  try {
    const u = new URL(base);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'an Alertmanager URL that does not parse';
  }
}
