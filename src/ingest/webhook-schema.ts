import Type, { type Static } from 'typebox';

// Written as plain JSON Schema: TypeBox's Record keys on the pattern "^.*$", which lets a key with a
// newline through unchecked, and its Enum has no type, which words a wrong type worse.
const LabelMap = Type.Unsafe<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' } });
// Empty is "not said": scripts and older senders leave it blank, and normalize() derives it.
const Status = Type.Unsafe<'firing' | 'resolved' | ''>({ type: 'string', enum: ['firing', 'resolved', ''] });
// Grafana's links: kept as links on the alert when they are http(s).
const Url = Type.Optional(Type.String({ maxLength: 8192 }));

/**
 * The webhook bodies alert-triage takes: Alertmanager's (version "4"), Grafana Alerting's
 * (version "1", the same envelope with orgId, title, state, message, and per alert its values and
 * silence, dashboard and panel URLs), and what scripts post in the same shape with less. One
 * definition gives both the JSON schema the route validates with and the TypeScript type.
 *
 * Only the alerts and their labels are required (the route's preValidation hook says so in words
 * before this schema runs): everything else missing is derived by normalize(). Extra fields are
 * allowed: senders add some (notification_reason, routeLabels, orgId), and rejecting them would make
 * Alertmanager drop the group.
 */
export const WebhookSchema = Type.Object({
  version: Type.Optional(Type.String({ maxLength: 16 })),
  // Some senders write it as a number; it is read as text.
  groupKey: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Integer()])),
  // A count of alerts left out; an absurd one (1e308) would stay in the counter for ever.
  truncatedAlerts: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
  receiver: Type.Optional(Type.String()),
  status: Type.Optional(Status),
  groupLabels: Type.Optional(LabelMap),
  commonLabels: Type.Optional(LabelMap),
  commonAnnotations: Type.Optional(LabelMap),
  externalURL: Type.Optional(Type.String()),
  /** Grafana's organisation: present only in Grafana's bodies. */
  orgId: Type.Optional(Type.Unknown()),
  alerts: Type.Array(
    Type.Object({
      status: Type.Optional(Status),
      labels: LabelMap,
      annotations: Type.Optional(LabelMap),
      startsAt: Type.Optional(Type.String()),
      endsAt: Type.Optional(Type.String()),
      generatorURL: Type.Optional(Type.String()),
      fingerprint: Type.Optional(Type.String()),
      silenceURL: Url,
      dashboardURL: Url,
      panelURL: Url,
      /** Grafana: the value of each query and expression (by its ref ID) when the alert was evaluated. */
      values: Type.Optional(Type.Unsafe<Record<string, unknown>>({ type: ['object', 'null'] })),
    }),
  ),
});

/** The payload as the schema guarantees it. */
export type WebhookPayload = Static<typeof WebhookSchema>;
