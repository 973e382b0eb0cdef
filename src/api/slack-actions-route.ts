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

/** What the Slack interactivity route needs. */
export interface SlackActionsOptions {
  signingSecret: string | undefined;
  service: IncidentService;
  /** The config in force: its contacts (who a Slack user is) and their roles. */
  config: CurrentConfig;
  clock: Clock;
}

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

/**
 * POST /slack/actions: the Acknowledge and Resolve buttons. The signature is checked before
 * anything else is read; the action is applied as that Slack user, and the answer goes back well
 * within Slack's three seconds (the message itself is updated through the outbox).
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
    if (payload.type !== 'block_actions' || !action || (action.action_id !== 'ack' && action.action_id !== 'resolve')) {
      return reply.code(200).send({ ok: true, ignored: true });
    }
    const id = parseIncidentId(action.value);
    if (id === undefined)
      return reply.code(200).send({ ok: false, message: `${JSON.stringify((action.value ?? '').slice(0, 40))} is not an incident id` });
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
      return reply.code(200).send({ ok: false, message: why });
    }
    const who = { name, contact: contact?.id, via: 'slack' as const };
    try {
      const result = await (action.action_id === 'ack' ? opts.service.acknowledge(id, who) : opts.service.resolve(id, who));
      if (!result.found) return reply.code(200).send({ ok: false, message: `no incident ${id}` });
      return reply.code(200).send({ ok: true, incident: id, status: result.incident.status, changed: result.changed });
    } catch (err) {
      if (err instanceof TransitionConflict) return reply.code(200).send({ ok: false, message: err.message });
      throw err;
    }
  });
}
