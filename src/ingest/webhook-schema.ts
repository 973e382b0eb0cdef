const labelMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

/**
 * Alertmanager's webhook payload, version 4. Extra fields are allowed: newer Alertmanagers add
 * some (notification_reason, routeLabels) and rejecting them would make Alertmanager drop the group.
 */
export const WEBHOOK_SCHEMA = {
  type: 'object',
  required: ['version', 'groupKey', 'receiver', 'status', 'alerts'],
  properties: {
    version: { type: 'string', const: '4' },
    groupKey: { type: 'string', minLength: 1 },
    truncatedAlerts: { type: 'integer', minimum: 0 },
    receiver: { type: 'string' },
    status: { type: 'string', enum: ['firing', 'resolved'] },
    groupLabels: labelMap,
    commonLabels: labelMap,
    commonAnnotations: labelMap,
    externalURL: { type: 'string' },
    alerts: {
      type: 'array',
      items: {
        type: 'object',
        required: ['status', 'labels', 'startsAt', 'fingerprint'],
        properties: {
          status: { type: 'string', enum: ['firing', 'resolved'] },
          labels: labelMap,
          annotations: labelMap,
          startsAt: { type: 'string', minLength: 1 },
          endsAt: { type: 'string' },
          generatorURL: { type: 'string' },
          fingerprint: { type: 'string', minLength: 1 },
        },
      },
    },
  },
} as const;

/** The payload as the schema guarantees it. */
export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts?: number;
  receiver: string;
  status: 'firing' | 'resolved';
  groupLabels?: Record<string, string>;
  commonLabels?: Record<string, string>;
  commonAnnotations?: Record<string, string>;
  externalURL?: string;
  alerts: {
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    startsAt: string;
    endsAt?: string;
    generatorURL?: string;
    fingerprint: string;
  }[];
}
