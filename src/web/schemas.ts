import Type, { type Static } from 'typebox';
import { SEVERITIES } from '../classify/severity.js';
import { INCIDENT_STATUSES } from '../incidents/model.js';
import { CURSOR_PATTERN } from '../http/timeline-cursor.js';

// The pages' path parameters, query strings and form bodies: one definition gives both the JSON
// schema a route validates with and the type its handler reads.

// A choice of strings as plain JSON Schema, with its type: TypeBox's Enum has none, which words a
// wrong type worse (as in src/ingest/webhook-schema.ts).
const OneOf = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });

/** Every form carries its CSRF token (checked by the security plugin, not by the schema). */
const Csrf = Type.Optional(Type.String({ maxLength: 500 }));

/** /incidents/:id and what hangs below it. */
export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** The list's filters and page; an empty value is what the filter form sends for "Any". */
export const ListQuerystring = Type.Object(
  {
    status: Type.Optional(OneOf(['', ...INCIDENT_STATUSES])),
    severity: Type.Optional(OneOf(['', ...SEVERITIES])),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 1 })),
  },
  { additionalProperties: false },
);
export type ListQs = Static<typeof ListQuerystring>;

/** An incident page's windows: `before`, the timeline's cursor (older entries); `alerts`, the first alert shown (from 0). */
export const IncidentQuerystring = Type.Object(
  {
    before: Type.Optional(Type.String({ pattern: CURSOR_PATTERN })),
    alerts: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 })),
  },
  { additionalProperties: false },
);
export type IncidentQs = Static<typeof IncidentQuerystring>;

/** Where to go after signing in. */
export const SignInQuerystring = Type.Object({ next: Type.Optional(Type.String({ maxLength: 2000 })) });

export const SignInBody = Type.Object(
  {
    name: Type.String({ maxLength: 200 }),
    token: Type.String({ maxLength: 1000 }),
    next: Type.Optional(Type.String({ maxLength: 2000 })),
    _csrf: Csrf,
  },
  { additionalProperties: false },
);

/** A form that is only its button (acknowledge, resolve). */
export const ButtonBody = Type.Object({ _csrf: Csrf }, { additionalProperties: false });

export const NoteBody = Type.Object({ text: Type.String({ minLength: 1, maxLength: 4000 }), _csrf: Csrf }, { additionalProperties: false });

/** A checklist step: ticked (done=on), unticked, or a problem with its note. */
export const StepBody = Type.Object(
  {
    step: Type.String({ minLength: 1, maxLength: 300 }),
    done: Type.Optional(OneOf(['on'])),
    problem: Type.Optional(OneOf(['on'])),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
    _csrf: Csrf,
  },
  { additionalProperties: false },
);

/** One field or a repeated one: a form sends a list as the same name again and again. */
const Steps = Type.Union([Type.String({ maxLength: 300 }), Type.Array(Type.String({ maxLength: 300 }), { maxItems: 200 })]);

/**
 * The whole checklist, saved with one button (without the script): every step shown (`shown`), those
 * ticked now (`done`), and those that were ticked when the page was rendered (`was`).
 */
export const ChecklistBody = Type.Object(
  { shown: Steps, done: Type.Optional(Steps), was: Type.Optional(Steps), _csrf: Csrf },
  { additionalProperties: false },
);

export const ReviewBody = Type.Object(
  {
    rootCause: Type.Optional(Type.String({ maxLength: 10_000 })),
    impact: Type.Optional(Type.String({ maxLength: 10_000 })),
    prevention: Type.Optional(Type.String({ maxLength: 10_000 })),
    _csrf: Csrf,
  },
  { additionalProperties: false },
);

/** "Silence 1 h / 4 h / 24 h / until resolved", the whole group or one alert (its fingerprint). */
export const SilenceBody = Type.Object(
  {
    length: OneOf(['1h', '4h', '24h', 'resolved']),
    scope: OneOf(['group', 'alert']),
    fingerprint: Type.Optional(Type.String({ maxLength: 200 })),
    keep: Type.Optional(OneOf(['on'])),
    _csrf: Csrf,
  },
  { additionalProperties: false },
);

/** A silence of the incident's, for "Expire now". */
export const SilenceParams = Type.Object({ id: Type.Integer({ minimum: 1 }), silenceId: Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }) });
