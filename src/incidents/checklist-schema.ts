import Type, { type Static } from 'typebox';

const Steps = Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { minItems: 1 });

/** One heading of a checklist with its steps, in order. */
export const ChecklistSectionSchema = Type.Object(
  { section: Type.String({ minLength: 1, maxLength: 200 }), steps: Steps },
  { additionalProperties: false },
);

const Sections = Type.Array(ChecklistSectionSchema, { minItems: 1 });

/**
 * The `checklists` section of config/triage.yml: the steps responders tick on the incident page.
 * Per severity (a severity left out keeps the plan's), the list every incident ends with, and
 * overrides per classification rule (by the rule's name). The first section of an incident's
 * checklist is also the first response that Slack and e-mail pages show.
 */
export const ChecklistsSchema = Type.Object(
  {
    /** A Critical found by a security rule: the plan's "Active Breach/Compromise". */
    critical: Type.Optional(Sections),
    /** Any other Critical (a rule of category availability, or the severity label alone): an outage. */
    criticalOutage: Type.Optional(Sections),
    high: Type.Optional(Sections),
    medium: Type.Optional(Sections),
    low: Type.Optional(Sections),
    afterAny: Type.Optional(ChecklistSectionSchema),
    rules: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Sections)),
  },
  { additionalProperties: false },
);

/** The `checklists` section as the schema guarantees it. */
export type RawChecklists = Static<typeof ChecklistsSchema>;
