import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { validateAdaptiveCard } from './adaptive-card-validator.js';
import { HttpStandIn, parseJson, RateLimit, type SeenRequest } from './http-stand-in.js';

/** A card as a Teams channel shows it, with the flow it came through. */
export interface TeamsPost {
  workflow: string;
  card: Record<string, unknown>;
  /** Every text of the card, one per line (TextBlocks, TextRuns, facts as "title: value"). */
  text: string;
}

/** Teams refuses a message over about 28 KB. */
const MAX_CARD_BYTES = 28 * 1024;

/**
 * Power Automate's HTTP trigger for "Post to a channel when a webhook request is received", as a
 * Workflows webhook URL reaches it: /workflows/<id>/triggers/manual/paths/invoke?…&sig=<signature>.
 * A wrong signature is a 401 and an unknown flow a 404, as Power Automate answers; a flow called too
 * often gets 429 with Retry-After (a bucket per flow); the body must be a message with one Adaptive
 * Card attachment, validated against the version Teams takes (1.4), and at most 28 KB. A post is
 * answered 202 with the run's ID, as the trigger does. The real service posts the card later, in the
 * flow run, and reports a bad card only in the run's history: this stand-in refuses it at once, so
 * tests see what production would lose silently.
 */
export class TeamsWorkflowsServer extends HttpStandIn {
  readonly posts: TeamsPost[] = [];
  readonly limit: RateLimit;
  private readonly flows = new Map<string, string>();
  onPost: ((p: TeamsPost) => void) | undefined;

  constructor(opts: { now?: () => number; burst?: number; refillMs?: number } = {}) {
    super();
    this.maxBodyBytes = 100 * 1024 * 1024;
    this.limit = new RateLimit(opts.burst ?? 100, opts.refillMs ?? 600, opts.now ?? Date.now);
  }

  /** A new flow posting to `channel`: its webhook URL, which holds its signature. */
  workflowUrl(channel: string): string {
    const id = randomBytes(16).toString('hex');
    const sig = randomBytes(24).toString('base64url');
    this.flows.set(id, sig);
    this.channels.set(id, channel);
    return `${this.url}/workflows/${id}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${sig}`;
  }

  private readonly channels = new Map<string, string>();

  /** The cards posted to `channel`. */
  postedTo(channel: string): TeamsPost[] {
    return this.posts.filter((p) => this.channels.get(p.workflow) === channel);
  }

  private error(
    res: ServerResponse,
    seen: SeenRequest,
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ) {
    this.send(res, seen, status, { error: { code, message } }, headers);
  }

  protected handle(req: IncomingMessage, seen: SeenRequest, res: ServerResponse): void {
    const url = new URL(seen.path, 'http://teams');
    const m = /^\/workflows\/([0-9a-f]+)\/triggers\/manual\/paths\/invoke$/.exec(url.pathname);
    if (!m || req.method !== 'POST') return this.error(res, seen, 404, 'NotFound', 'The requested resource was not found.');
    const id = m[1]!;
    if (!this.flows.has(id)) return this.error(res, seen, 404, 'WorkflowNotFound', `The workflow '${id}' could not be found.`);
    if (url.searchParams.get('sig') !== this.flows.get(id))
      return this.error(
        res,
        seen,
        401,
        'DirectApiInvalidAuthorizationSignature',
        'The provided request has an invalid authorization signature.',
      );
    const wait = this.limit.take(id);
    if (wait !== undefined)
      return this.error(res, seen, 429, 'WorkflowTriggerIsThrottled', 'The workflow trigger is throttled. Retry later.', {
        'retry-after': String(wait),
      });
    if (!/^application\/json/.test(req.headers['content-type'] ?? ''))
      return this.error(res, seen, 415, 'UnsupportedMediaType', "The media type is not supported; send 'application/json'.");
    const body = parseJson(seen.body) as { type?: unknown; attachments?: { contentType?: unknown; content?: unknown }[] } | undefined;
    if (!body) return this.error(res, seen, 400, 'InvalidRequestContent', 'The request content is not valid JSON.');
    const attachment = body.attachments?.[0];
    if (body.type !== 'message' || body.attachments?.length !== 1 || attachment?.contentType !== 'application/vnd.microsoft.card.adaptive')
      return this.error(res, seen, 400, 'TriggerInputSchemaMismatch', 'Expected a message with one Adaptive Card attachment.');
    if (Buffer.byteLength(JSON.stringify(attachment.content)) > MAX_CARD_BYTES)
      return this.error(res, seen, 413, 'MessageSizeTooBig', 'The card is larger than Teams accepts (28 KB).');
    const problems = validateAdaptiveCard(attachment.content, '1.4');
    if (problems.length) return this.error(res, seen, 400, 'InvalidAdaptiveCard', problems.join('; '));
    const card = attachment.content as Record<string, unknown>;
    const post: TeamsPost = { workflow: id, card, text: cardText(card).join('\n') };
    const deliver = () => {
      this.posts.push(post);
      this.onPost?.(post);
    };
    if (this.scripted(res, seen, deliver) === 'done') return;
    deliver();
    this.send(res, seen, 202, '', { 'x-ms-workflow-run-id': `08584${randomBytes(8).toString('hex')}` });
  }
}

/** Every text a card shows, in order. */
export function cardText(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(cardText);
  if (!node || typeof node !== 'object') return [];
  const o = node as Record<string, unknown>;
  if (o['type'] === 'TextBlock' || o['type'] === 'TextRun') return [String(o['text'])];
  if (o['type'] === 'RichTextBlock')
    return [(o['inlines'] as { text: string }[]).map((r) => (typeof r === 'string' ? r : r.text)).join('')];
  if (o['type'] === 'FactSet') return (o['facts'] as { title: string; value: string }[]).map((f) => `${f.title}: ${f.value}`);
  if (o['type'] === 'Action.OpenUrl') return [`[${String(o['title'])}](${String(o['url'])})`];
  return Object.entries(o)
    .filter(([k]) => k !== 'msteams')
    .flatMap(([, v]) => cardText(v));
}
