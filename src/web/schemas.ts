import { SEVERITIES, type Severity } from '../classify/severity.js';
import { INCIDENT_STATUSES, type IncidentStatus } from '../incidents/model.js';

// The pages' path parameters, query strings and forms.

export const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;
export const csrfField = { _csrf: { type: 'string', maxLength: 500 } } as const;
export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // An empty value is what the filter form sends for "Any".
    status: { type: 'string', enum: ['', ...INCIDENT_STATUSES] },
    severity: { type: 'string', enum: ['', ...SEVERITIES] },
    page: { type: 'integer', minimum: 1, maximum: 100_000, default: 1 },
  },
} as const;
export type ListQs = { status?: IncidentStatus | ''; severity?: Severity | ''; page: number };
