import Type, { type Static } from 'typebox';
import { ClassificationSchema } from '../classify/classification-schema.js';
import { DurationText } from '../incidents/duration.js';
import { PagingSections } from '../paging/paging-schema.js';
import { ChecklistsSchema } from '../incidents/checklist-schema.js';
import { PeopleSchema } from '../people/people-schema.js';
import { StatusPageSchema } from '../incidents/status-schema.js';

const Size = Type.Union([Type.Integer({ minimum: 1024 }), Type.String({ pattern: '^[0-9]+(B|KiB|MiB|GiB|kB|MB|GB)?$' })]);

const HeartbeatName = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' });

/** The alerting pipeline's heartbeats (docs/alertmanager.md, "Watchdog and heartbeats"). */
const HeartbeatsSchema = Type.Object(
  {
    watchdog: Type.Optional(
      Type.Object(
        {
          alertname: Type.Optional(Type.String({ minLength: 1 })),
          timeout: Type.Optional(DurationText),
          sources: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  name: HeartbeatName,
                  externalUrls: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
                  timeout: Type.Optional(DurationText),
                },
                { additionalProperties: false },
              ),
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    monitors: Type.Optional(Type.Array(Type.Object({ name: HeartbeatName, timeout: DurationText }, { additionalProperties: false }))),
  },
  { additionalProperties: false },
);

/**
 * config/triage.yml: one definition gives the JSON Schema ajv checks the file against at startup
 * and the type of what passed. Each domain owns the schema of its own section.
 */
export const TriageConfigSchema = Type.Object(
  {
    server: Type.Optional(
      Type.Object(
        {
          bodyLimit: Type.Optional(Size),
          requestTimeout: Type.Optional(DurationText),
          connectionTimeout: Type.Optional(DurationText),
          backlog: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
          statusAnswersPerSecond: Type.Optional(Type.Integer({ minimum: 1 })),
          statusPortAnswersPerSecond: Type.Optional(Type.Integer({ minimum: 1 })),
        },
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
    heartbeats: Type.Optional(HeartbeatsSchema),
    // Where silences are made (docs/alertmanager.md, "Silences"): every peer of the HA cluster, tried in order.
    alertmanager: Type.Optional(
      Type.Object({ urls: Type.Optional(Type.Array(Type.String({ pattern: '^https?://' }))) }, { additionalProperties: false }),
    ),
    people: Type.Optional(PeopleSchema),
    // The public status page's components (docs/status-page.md).
    statusPage: Type.Optional(StatusPageSchema),
  },
  { additionalProperties: false },
);

/** The config file as the schema guarantees it. */
export type RawConfig = Static<typeof TriageConfigSchema>;
