import type { CurrentConfig } from '../service/live-config.js';
import { wellFormedDeep } from '../well-formed.js';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import type { Clock } from '../clock.js';
import type { IncidentService } from '../service/incident-service.js';
import { TransitionConflict } from '../incidents/incident-machine.js';
import { compileExact } from '../http/validator-compiler.js';
import { identityOfContact, personOf } from '../people/people-config.js';
import { refusal } from '../people/person.js';
import { AlertmanagerRefused, AlertmanagerUnavailable } from '../alertmanager/silences-client.js';
import { slackText } from '../notify/render.js';
import { SilenceRequestError, type SilenceLength, type SilenceService } from '../service/silence-service.js';

/** What the Slack interactivity route needs. */
export interface SlackActionsOptions {
  signingSecret: string | undefined;
  service: IncidentService;
  /** The config in force: its contacts (who a Slack user is) and their roles. */
  config: CurrentConfig;
  clock: Clock;
  /** The Silence buttons' silences in Alertmanager (the same service as the incident page's). */
  silences?: SilenceService | undefined;
  /**
   * Origins a payload's response_url may have, besides Slack's own https://hooks.slack.com: the
   * origin of SLACK_API_URL (a proxy, or the tests' server). Any other is not called.
   */
  responseOrigins?: readonly string[] | undefined;
}

/** The Silence buttons: their action_id and the silence's length. */
const SILENCE_ACTIONS: Record<string, SilenceLength> = { silence_1h: '1h', silence_4h: '4h', silence_24h: '24h' };
const LENGTH_WORDS: Record<SilenceLength, string> = { '1h': '1 h', '4h': '4 h', '24h': '24 h', resolved: 'until it resolves' };

const MAX_SKEW_S = 5 * 60;

/**
 * Checks Slack's request signature: v0 HMAC-SHA256 of `v0:timestamp:body` with the signing
 * secret, compared in constant time, and refuses timestamps more than five minutes off (replays).
 */
export function verifySlackSignature(
  secret: string,
  timestamp: string | undefined,
  signature: string | undefined,
  body: string,
  nowMs: number,
): boolean {
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > MAX_SKEW_S) return false;
  const expected = Buffer.from(`v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const Text = Type.String({ maxLength: 1000 });

/**
 * The part of a Slack interaction payload this route reads. Slack sends many more fields and other
 * interaction types; those are allowed here and ignored below. A signed payload of another shape
 * (null, a value that is not a string) is refused with 400 rather than read blindly.
 */
const InteractionPayload = Type.Object({
  type: Text,
  response_url: Type.Optional(Text),
  user: Type.Optional(Type.Object({ id: Type.Optional(Text), username: Type.Optional(Text), name: Type.Optional(Text) })),
  actions: Type.Optional(Type.Array(Type.Object({ action_id: Type.Optional(Text), value: Type.Optional(Text) }))),
});
type InteractionPayload = Static<typeof InteractionPayload>;
const isInteractionPayload = compileExact<InteractionPayload>(InteractionPayload);

/** An incident id as our buttons write it: digits only, no sign, no leading zero, no spaces or exponent ("1.0", " 1 ", "0x10" are not ids). */
export function parseIncidentId(value: string | undefined): number | undefined {
  if (value === undefined || !/^[1-9][0-9]{0,15}$/.test(value)) return undefined;
  const id = Number(value);
  return Number.isSafeInteger(id) ? id : undefined;
}

/** A response_url that may be called: https://hooks.slack.com/…, or on one of the origins given. */
export function allowedResponseUrl(url: string | undefined, origins: readonly string[] = []): URL | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    if (u.username || u.password) return undefined;
    if (u.origin === 'https://hooks.slack.com' || origins.some((o) => new URL(o).origin === u.origin)) return u;
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * POST /slack/actions: the Acknowledge, Resolve and Silence buttons. The signature is checked before
 * anything else is read; the action is applied as that Slack user, and the answer goes back well
 * within Slack's three seconds (the message itself is updated through the outbox). A silence is
 * made in Alertmanager through the silence service, as the page's are, and recorded on the
 * timeline, which tells the incident's channels (a thread reply in Slack). The person who pressed
 * is answered at once, to them alone, through the payload's response_url: a refusal or a failure
 * too, so that a press never goes unanswered.
 */
export async function slackActionsRoute(app: FastifyInstance, opts: SlackActionsOptions) {
  // The signature covers the raw body, so keep it as text.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) =>
    done(null, body),
  );

  app.post<{ Body: string }>('/slack/actions', async (req, reply) => {
    if (!opts.signingSecret)
      return reply
        .code(503)
        .send({ error: 'Service Unavailable', message: 'Slack actions are not configured (SLACK_SIGNING_SECRET unset)' });
    const body = typeof req.body === 'string' ? req.body : '';
    const ts = req.headers['x-slack-request-timestamp'];
    const sig = req.headers['x-slack-signature'];
    if (
      !verifySlackSignature(
        opts.signingSecret,
        typeof ts === 'string' ? ts : undefined,
        typeof sig === 'string' ? sig : undefined,
        body,
        opts.clock.now(),
      )
    ) {
      return reply.code(401).send({ error: 'Unauthorized', message: 'bad or stale Slack signature' });
    }
    let parsed: unknown;
    try {
      parsed = wellFormedDeep(JSON.parse(new URLSearchParams(body).get('payload') ?? '') as unknown);
    } catch {
      return reply.code(400).send({ error: 'Bad Request', message: 'payload is not JSON' });
    }
    if (!isInteractionPayload(parsed)) {
      const e = isInteractionPayload.errors?.[0];
      return reply
        .code(400)
        .send({ error: 'Bad Request', message: `payload${e?.instancePath ?? ''} ${e?.message ?? 'is not a Slack interaction'}` });
    }
    const payload = parsed;
    const action = payload.actions?.[0];
    const length =
      action?.action_id !== undefined && Object.hasOwn(SILENCE_ACTIONS, action.action_id) ? SILENCE_ACTIONS[action.action_id] : undefined;
    if (
      payload.type !== 'block_actions' ||
      !action ||
      (action.action_id !== 'ack' && action.action_id !== 'resolve' && (length === undefined || !opts.silences))
    ) {
      return reply.code(200).send({ ok: true, ignored: true });
    }
    // Told to the person who pressed, to them alone; never awaited (Slack wants the 200 within 3 s), never logged with its URL.
    const tell = (text: string) => {
      const url = allowedResponseUrl(payload.response_url, opts.responseOrigins);
      if (!url) return;
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
        signal: AbortSignal.timeout(5000),
        redirect: 'error',
      }).then(
        (res) => !res.ok && req.log.warn({ status: res.status }, 'Slack did not take the answer to a button'),
        (err: unknown) => req.log.warn({ err: (err as Error).name }, 'could not answer a Slack button'),
      );
    };
    const no = (message: string) => {
      tell(`:no_entry: ${slackText(message)}`);
      return reply.code(200).send({ ok: false, message });
    };
    const id = parseIncidentId(action.value);
    if (id === undefined) return no(`${JSON.stringify((action.value ?? '').slice(0, 40))} is not an incident id`);
    const slackId = payload.user?.id;
    const { paging, people } = opts.config.current;
    const contact = paging.contacts.find((c) => c.slack && c.slack === slackId);
    const name = contact?.name ?? `@${payload.user?.username ?? payload.user?.name ?? slackId ?? 'slack-user'}`;
    // The Slack user acts as their contact, with the contact's role; someone who is no contact has
    // the role people.unknown gives (none by default), like anyone the config does not know.
    const identity = contact ? identityOfContact(contact) : { key: `slack:${slackId ?? ''}`, contact: null, name, email: null, groups: [] };
    const person = personOf(people, paging.contacts, identity, 'slack');
    const why = refusal(person, 'responder');
    if (why) {
      req.log.warn(
        { audit: 'role-refused', person: person.key, role: person.role, need: 'responder', via: 'slack' },
        'refused for want of a role',
      );
      return no(why);
    }
    const who = { name, contact: contact?.id, via: 'slack' as const };
    if (length !== undefined) {
      try {
        const made = await opts.silences!.silence(id, who, { length, scope: 'group' });
        if (!made.found) return no(`no incident ${id}`);
        tell(
          `:mute: Silenced the whole group of incident #${id} in Alertmanager for ${LENGTH_WORDS[length]}: ${slackText(made.matchers)}, until <!date^${Math.floor(
            made.endsAt / 1000,
          )}^{date_short_pretty} {time}|${new Date(made.endsAt).toISOString()}>. Expire it from the incident page.`,
        );
        return reply.code(200).send({ ok: true, incident: id, silenceId: made.silenceId });
      } catch (err) {
        if (err instanceof SilenceRequestError) return no(err.message);
        if (err instanceof AlertmanagerRefused) return no(`Alertmanager refused: ${err.message}`);
        if (err instanceof AlertmanagerUnavailable) return no(`Alertmanager did not answer, nothing was silenced: ${err.message}`);
        throw err;
      }
    }
    try {
      const result = await (action.action_id === 'ack' ? opts.service.acknowledge(id, who) : opts.service.resolve(id, who));
      if (!result.found) return no(`no incident ${id}`);
      return reply.code(200).send({ ok: true, incident: id, status: result.incident.status, changed: result.changed });
    } catch (err) {
      if (err instanceof TransitionConflict) return no(err.message);
      throw err;
    }
  });
}
