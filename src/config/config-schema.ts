import Type, { type Static } from 'typebox';
import { ClassificationSchema } from '../classify/classification-schema.js';
import { DurationText } from '../incidents/duration.js';
import { PagingSections } from '../paging/paging-schema.js';
import { ChecklistsSchema } from '../incidents/checklist-schema.js';
import { PeopleSchema } from '../people/people-schema.js';

const Size = Type.Union([Type.Integer({ minimum: 1024 }), Type.String({ pattern: '^[0-9]+(B|KiB|MiB|GiB|kB|MB|GB)?$' })]);

/**
 * config/triage.yml: one definition gives the JSON Schema ajv checks the file against at startup
 * and the type of what passed. Each domain owns the schema of its own section.
 */
export const TriageConfigSchema = Type.Object(
  {
    server: Type.Optional(
      Type.Object(
        { bodyLimit: Type.Optional(Size), requestTimeout: Type.Optional(DurationText), connectionTimeout: Type.Optional(DurationText) },
        { additionalProperties: false },
      ),
    ),
    sla: Type.Object(
      { critical: DurationText, high: DurationText, medium: DurationText, low: DurationText },
      { additionalProperties: false },
    ),
    scheduler: Type.Optional(Type.Object({ interval: Type.Optional(DurationText) }, { additionalProperties: false })),
    classification: ClassificationSchema,
    ...PagingSections,
    checklists: Type.Optional(ChecklistsSchema),
    people: Type.Optional(PeopleSchema),
  },
  { additionalProperties: false },
);

/** The config file as the schema guarantees it. */
export type RawConfig = Static<typeof TriageConfigSchema>;
