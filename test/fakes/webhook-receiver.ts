import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HttpStandIn, type SeenRequest } from './http-stand-in.js';

type Verify = (secret: string, timestamp: unknown, signature: unknown, rawBody: string, now?: number) => boolean;

const DOC = new URL('../../docs/outgoing-webhooks.md', import.meta.url);

/**
 * The verification code of docs/outgoing-webhooks.md, exactly as written there: the block between
 * its verify:start and verify:end marks, loaded as a module. A receiver that uses it proves the
 * documentation right.
 */
export async function documentedVerify(): Promise<Verify> {
  const doc = readFileSync(DOC, 'utf8');
  const block = /<!-- verify:start -->\s*```js\n([\s\S]*?)```\s*<!-- verify:end -->/.exec(doc)?.[1];
  if (!block) throw new Error('docs/outgoing-webhooks.md has no verify block');
  const dir = mkdtempSync(join(tmpdir(), 'verify-'));
  const file = join(dir, 'verify.mjs');
  writeFileSync(file, block);
  try {
    return ((await import(pathToFileURL(file).href)) as { verify: Verify }).verify;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An event as the receiver processed it. */
export interface ReceivedEvent {
  key: string;
  type: string;
  body: Record<string, unknown>;
}

/**
 * A receiver of alert-triage's outgoing webhooks, written as docs/outgoing-webhooks.md tells one to
 * be: it verifies the signature with the documented code (401 for a bad or replayed one), drops a
 * request whose Idempotency-Key it has processed (200 all the same), and processes the rest once.
 * Its clock is the test's, for the replay window.
 */
export class WebhookReceiver extends HttpStandIn {
  readonly events: ReceivedEvent[] = [];
  readonly rejected: SeenRequest[] = [];
  readonly duplicates: SeenRequest[] = [];
  private readonly seen = new Set<string>();
  onEvent: ((e: ReceivedEvent) => void) | undefined;

  constructor(
    private readonly secret: string,
    private readonly verify: Verify,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  static async create(secret: string, now?: () => number): Promise<WebhookReceiver> {
    return new WebhookReceiver(secret, await documentedVerify(), now);
  }

  protected handle(req: IncomingMessage, seen: SeenRequest, res: ServerResponse): void {
    if (req.method !== 'POST') return this.send(res, seen, 405, { error: 'POST only' });
    const h = req.headers;
    if (!this.verify(this.secret, h['x-alert-triage-timestamp'], h['x-alert-triage-signature'], seen.body, this.now())) {
      this.rejected.push(seen);
      return this.send(res, seen, 401, { error: 'bad signature or stale timestamp' });
    }
    const key = String(h['idempotency-key'] ?? '');
    if (!key) return this.send(res, seen, 400, { error: 'no Idempotency-Key' });
    if (this.seen.has(key)) {
      this.duplicates.push(seen);
      return this.send(res, seen, 200, { duplicate: true });
    }
    const body = JSON.parse(seen.body) as Record<string, unknown>;
    const event: ReceivedEvent = { key, type: String(body['type']), body };
    const deliver = () => {
      this.seen.add(key);
      this.events.push(event);
      this.onEvent?.(event);
    };
    if (this.scripted(res, seen, deliver) === 'done') return;
    deliver();
    this.send(res, seen, 200, { ok: true });
  }

  /** Sends a request the receiver saw once more, as an attacker who captured it would, to its own URL. */
  async replay(r: SeenRequest): Promise<number> {
    const headers: Record<string, string> = {};
    for (const k of ['content-type', 'x-alert-triage-timestamp', 'x-alert-triage-signature', 'x-alert-triage-event', 'idempotency-key'])
      if (typeof r.headers[k] === 'string') headers[k] = r.headers[k];
    return (await fetch(`${this.url}${r.path}`, { method: 'POST', headers, body: r.body })).status;
  }
}
