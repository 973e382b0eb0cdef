import Type, { type Static, type TSchema } from 'typebox';
import { DurationText } from '../incidents/duration.js';
import { RoleText } from '../people/people-schema.js';

const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$' });
const Targets = Type.Array(Id);

/** One optional value per severity. */
export function perSeverity<T extends TSchema>(schema: T) {
  return Type.Object(
    { critical: Type.Optional(schema), high: Type.Optional(schema), medium: Type.Optional(schema), low: Type.Optional(schema) },
    { additionalProperties: false },
  );
}

const ContactSchema = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1 }),
    email: Type.Optional(Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$' })),
    slack: Type.Optional(Type.String({ pattern: '^[UW][A-Z0-9]{2,}$' })),
    /** The number calls and texts go to (E.164), unless addresses.sms or addresses.voice say otherwise. */
    phone: Type.Optional(Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$' })),
    /** The contact's address on any other channel, by channel name (e.g. a Mattermost user). */
    addresses: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z][a-z0-9-]*$' }), Type.String({ minLength: 1 }))),
    roles: Type.Optional(Targets),
    /** What this person may do: viewer, responder or admin (people.defaultRole when left out). */
    access: Type.Optional(RoleText),
  },
  { additionalProperties: false },
);

const OncallSchema = Type.Object(
  {
    timeZone: Type.String({ minLength: 1 }),
    handoff: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
    rotation: Type.String({ pattern: '^[0-9]+(d|w)$' }),
    start: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }),
    members: Type.Array(Id, { minItems: 1 }),
    overrides: Type.Optional(
      Type.Array(Type.Object({ from: Type.String(), to: Type.String(), contact: Id }, { additionalProperties: false })),
    ),
    /** Tell the incoming and outgoing person at each handoff (a Slack DM, else an e-mail); default true. */
    handoffNotices: Type.Optional(Type.Boolean()),
    /** A Slack channel (#name or ID) that is told of each handoff too. */
    handoffChannel: Type.Optional(Type.String({ pattern: '^[#CG]', maxLength: 100 })),
    /** A Slack user group (its handle, e.g. oncall-payments, or its ID S…) kept equal to who is on call. */
    slackUsergroup: Type.Optional(Type.String({ pattern: '^@?[a-z0-9][a-z0-9._-]*$|^S[A-Z0-9]+$', maxLength: 80 })),
  },
  { additionalProperties: false },
);

const RouteSchema = Type.Object(
  {
    channels: Type.Optional(Type.Array(Type.String({ pattern: '^[#CG]' }))),
    /** Rooms on any channel, as "channel:target" (e.g. "mattermost:town-square"). */
    to: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z][a-z0-9-]*:.+$' }))),
    notify: Type.Optional(Targets),
    email: Type.Optional(Type.Boolean()),
    /** Push each paged person's own ntfy topic (their `addresses: { ntfy: … }`). */
    ntfy: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const EscalationSchema = Type.Object(
  {
    steps: Type.Optional(
      Type.Array(Type.Object({ after: DurationText, notify: Type.Array(Id, { minItems: 1 }) }, { additionalProperties: false })),
    ),
    repeat: Type.Optional(DurationText),
    maxReminders: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
);

/** How a page reaches each person, by severity: an ordered list of steps (a channel name, and when after the event). */
const RulesSchema = perSeverity(
  Type.Array(Type.Object({ method: Type.String({ pattern: '^[a-z][a-z0-9-]*$' }), after: DurationText }, { additionalProperties: false }), {
    maxItems: 20,
  }),
);

/** A team: the alerts its matchers select get its on-call, routing and escalation (missing severities inherit). */
const TeamSchema = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1 }),
    /** Alertmanager matchers; all must hold. */
    match: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    oncall: Type.Optional(OncallSchema),
    routing: Type.Optional(perSeverity(RouteSchema)),
    escalation: Type.Optional(perSeverity(EscalationSchema)),
    notificationRules: Type.Optional(RulesSchema),
  },
  { additionalProperties: false },
);

/** The paging sections of config/triage.yml: who can be paged, the rotation, routing and escalation, and the teams. */
export const PagingSections = {
  contacts: Type.Optional(Type.Array(ContactSchema)),
  oncall: Type.Optional(OncallSchema),
  routing: Type.Optional(perSeverity(RouteSchema)),
  escalation: Type.Optional(perSeverity(EscalationSchema)),
  teams: Type.Optional(Type.Array(TeamSchema)),
  /** The team's default notification rules (each person may tighten their own); see paging/notification-rules.ts. */
  notificationRules: Type.Optional(RulesSchema),
  /** Where a drill (`alert-triage fire`) pages, unless it is run with --live or --to. */
  drill: Type.Optional(RouteSchema),
  /** The on-call calendar feeds: how far ahead they reach (default 90d). */
  calendar: Type.Optional(Type.Object({ horizon: Type.Optional(DurationText) }, { additionalProperties: false })),
};

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- its type is what the parser returns
const PagingSchema = Type.Object(PagingSections);

/** The paging sections as written, which parsePaging turns into the paging domain's types. */
export type RawPaging = Static<typeof PagingSchema>;
export type RawOncall = NonNullable<RawPaging['oncall']>;
export type RawRouting = NonNullable<RawPaging['routing']>;
export type RawEscalation = NonNullable<RawPaging['escalation']>;
export type RawRules = NonNullable<RawPaging['notificationRules']>;
