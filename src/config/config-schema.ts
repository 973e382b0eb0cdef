import { SEVERITIES } from '../incidents/severity.js';

const duration = { type: 'string', pattern: '^([0-9]+(ms|s|m|h|d|w))+$' } as const;
const size = {
  anyOf: [
    { type: 'integer', minimum: 1024 },
    { type: 'string', pattern: '^[0-9]+(B|KiB|MiB|GiB|kB|MB|GB)?$' },
  ],
} as const;
const severity = { type: 'string', enum: SEVERITIES } as const;

/** JSON Schema of config/triage.yml; ajv checks the file against it at startup. */
export const TRIAGE_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['sla', 'classification'],
  properties: {
    server: {
      type: 'object',
      additionalProperties: false,
      properties: {
        bodyLimit: size,
        requestTimeout: duration,
        connectionTimeout: duration,
      },
    },
    sla: {
      type: 'object',
      additionalProperties: false,
      required: [...SEVERITIES],
      properties: Object.fromEntries(SEVERITIES.map((s) => [s, duration])),
    },
    scheduler: {
      type: 'object',
      additionalProperties: false,
      properties: { interval: duration },
    },
    classification: {
      type: 'object',
      additionalProperties: false,
      required: ['defaultSeverity', 'rules'],
      properties: {
        severityLabel: { type: 'string', pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' },
        defaultSeverity: severity,
        rules: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'severity', 'matchers'],
            properties: {
              name: { type: 'string', minLength: 1 },
              severity,
              matchers: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
            },
          },
        },
      },
    },
  },
} as const;
