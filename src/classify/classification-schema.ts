import Type, { type Static } from 'typebox';
import { SeverityName } from './severity.js';

/** A classification rule: the first rule whose matchers all match decides. */
export const ClassificationRuleSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    severity: SeverityName,
    matchers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  },
  { additionalProperties: false },
);

/** The `classification` section of config/triage.yml. */
export const ClassificationSchema = Type.Object(
  {
    /** A label a Prometheus rule can set to decide the severity outright. */
    severityLabel: Type.Optional(Type.String({ pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' })),
    defaultSeverity: SeverityName,
    rules: Type.Array(ClassificationRuleSchema),
  },
  { additionalProperties: false },
);

export type ClassificationRuleSpec = Static<typeof ClassificationRuleSchema>;
export type ClassificationSection = Static<typeof ClassificationSchema>;
