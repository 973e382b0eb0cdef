import Type, { type Static } from 'typebox';

// Written as plain JSON Schema: TypeBox's Record keys on the pattern "^.*$", which lets a key with a
// newline through unchecked, and its Enum has no type, which words a wrong type worse.
const LabelMap = Type.Unsafe<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' } });
const Status = Type.Unsafe<'firing' | 'resolved'>({ type: 'string', enum: ['firing', 'resolved'] });

/**
 * Alertmanager's webhook payload, version 4: one definition gives both the JSON schema the route
 * validates with and the TypeScript type. Extra fields are allowed: newer Alertmanagers add some
 * (notification_reason, routeLabels) and rejecting them would make Alertmanager drop the group.
 */
export const WebhookSchema = Type.Object({
  version: Type.Literal('4'),
  groupKey: Type.String({ minLength: 1 }),
  // A count of alerts left out; an absurd one (1e308) would stay in the counter for ever.
  truncatedAlerts: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
  receiver: Type.String(),
  status: Status,
  groupLabels: Type.Optional(LabelMap),
  commonLabels: Type.Optional(LabelMap),
  commonAnnotations: Type.Optional(LabelMap),
  externalURL: Type.Optional(Type.String()),
  alerts: Type.Array(
    Type.Object({
      status: Status,
      labels: LabelMap,
      annotations: Type.Optional(LabelMap),
      startsAt: Type.String({ minLength: 1 }),
      endsAt: Type.Optional(Type.String()),
      generatorURL: Type.Optional(Type.String()),
      fingerprint: Type.String({ minLength: 1 }),
    }),
  ),
});

/** The payload as the schema guarantees it. */
export type WebhookPayload = Static<typeof WebhookSchema>;
