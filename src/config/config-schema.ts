import { SEVERITIES } from '../classify/severity.js';

const duration = { type: 'string', pattern: '^([0-9]+(ms|s|m|h|d|w))+$' } as const;
const size = {
  anyOf: [
    { type: 'integer', minimum: 1024 },
    { type: 'string', pattern: '^[0-9]+(B|KiB|MiB|GiB|kB|MB|GB)?$' },
  ],
} as const;
const severity = { type: 'string', enum: SEVERITIES } as const;
const id = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$' } as const;
const targets = { type: 'array', items: id } as const;
const perSeverity = (schema: object) => ({
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(SEVERITIES.map((s) => [s, schema])),
});

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
    contacts: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name'],
        properties: {
          id,
          name: { type: 'string', minLength: 1 },
          email: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' },
          slack: { type: 'string', pattern: '^[UW][A-Z0-9]{2,}$' },
          roles: targets,
        },
      },
    },
    oncall: {
      type: 'object',
      additionalProperties: false,
      required: ['timeZone', 'handoff', 'rotation', 'start', 'members'],
      properties: {
        timeZone: { type: 'string', minLength: 1 },
        handoff: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' },
        rotation: { type: 'string', pattern: '^[0-9]+(d|w)$' },
        start: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' },
        members: { type: 'array', minItems: 1, items: id },
        overrides: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['from', 'to', 'contact'],
            properties: { from: { type: 'string' }, to: { type: 'string' }, contact: id },
          },
        },
      },
    },
    routing: perSeverity({
      type: 'object',
      additionalProperties: false,
      properties: {
        channels: { type: 'array', items: { type: 'string', pattern: '^[#CG]' } },
        notify: targets,
        email: { type: 'boolean' },
      },
    }),
    escalation: perSeverity({
      type: 'object',
      additionalProperties: false,
      properties: {
        steps: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['after', 'notify'],
            properties: { after: duration, notify: { ...targets, minItems: 1 } },
          },
        },
        repeat: duration,
        maxReminders: { type: 'integer', minimum: 0, maximum: 100 },
      },
    }),
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
