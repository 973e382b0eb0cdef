import Type, { type Static } from 'typebox';

/** One public component: what users see on /status, and the matchers that tie an incident to it. */
const ComponentSchema = Type.Object(
  {
    /** A stable id (subscriptions and past updates name components by it). */
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    group: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    description: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    /** Alertmanager matchers (src/classify/matcher.ts), all of which an alert's labels must meet. */
    matchers: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { minItems: 1 })),
  },
  { additionalProperties: false },
);

/**
 * The `statusPage` section of config/triage.yml (docs/status-page.md): the public components, the
 * page's title, and the checklist steps a public update ticks.
 */
export const StatusPageSchema = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    components: Type.Optional(Type.Array(ComponentSchema)),
    /** The checklist step posting an update ticks (default the plan's "Status page updated"). */
    updatedStep: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    /** The step ticked once a closing update reached subscribers (default "Users notified (if applicable)"). */
    notifiedStep: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
  },
  { additionalProperties: false },
);

export type RawStatusPage = Static<typeof StatusPageSchema>;
