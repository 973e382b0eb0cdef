import Type, { type Static } from 'typebox';
import { SeverityName } from './severity.js';

const LabelName = Type.String({ pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' });

/** A classification rule: the first rule whose matchers all match decides. */
export const ClassificationRuleSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    severity: SeverityName,
    /** What kind of incident the rule finds: its Critical playbook is the breach one (security) or the outage one (availability, the default). */
    category: Type.Optional(Type.Union([Type.Literal('security'), Type.Literal('availability')])),
    matchers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  },
  { additionalProperties: false },
);

/**
 * The severity an alert declares in the conventional Prometheus label (`severity: critical`),
 * mapped to the plan's severities. An incident is never paged below it.
 */
export const SeverityLabelsSchema = Type.Object(
  {
    /** The label read; `severity` by default. */
    label: Type.Optional(LabelName),
    /** Label value (compared trimmed and in lower case) → severity; replaces the default table. */
    values: Type.Optional(Type.Record(Type.String({ minLength: 1 }), SeverityName)),
  },
  { additionalProperties: false },
);

/** The `classification` section of config/triage.yml. */
export const ClassificationSchema = Type.Object(
  {
    /** A label a Prometheus rule can set to decide the severity outright. */
    severityLabel: Type.Optional(LabelName),
    severityLabels: Type.Optional(SeverityLabelsSchema),
    defaultSeverity: SeverityName,
    rules: Type.Array(ClassificationRuleSchema),
  },
  { additionalProperties: false },
);

export type ClassificationRuleSpec = Static<typeof ClassificationRuleSchema>;
export type SeverityLabelsSection = Static<typeof SeverityLabelsSchema>;
export type ClassificationSection = Static<typeof ClassificationSchema>;
