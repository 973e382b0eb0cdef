import { toLabels } from '../classify/labels.js';
import type { GroupNotification, IncomingAlert } from '../incidents/model.js';
import { PayloadError } from '../http/payload-error.js';
import type { WebhookPayload } from './webhook-schema.js';

/**
 * Turns a schema-valid payload into the domain's notification: times as epoch ms (Go's zero time
 * means "not set"), labels in null-prototype objects, hostile keys dropped. When one payload lists
 * a fingerprint twice, the last entry wins.
 */
export function normalize(p: WebhookPayload): GroupNotification {
  const byFingerprint = new Map<string, IncomingAlert>();
  p.alerts.forEach((a, i) => {
    byFingerprint.set(a.fingerprint, {
      fingerprint: a.fingerprint,
      status: a.status,
      labels: toLabels(a.labels),
      annotations: toLabels(a.annotations),
      startsAt: time(a.startsAt, `alerts[${i}].startsAt`) ?? 0,
      endsAt: a.endsAt === undefined ? null : time(a.endsAt, `alerts[${i}].endsAt`),
      generatorUrl: a.generatorURL ?? '',
    });
  });
  return {
    receiver: p.receiver,
    groupKey: p.groupKey,
    status: p.status,
    groupLabels: toLabels(p.groupLabels),
    commonLabels: toLabels(p.commonLabels),
    commonAnnotations: toLabels(p.commonAnnotations),
    externalUrl: p.externalURL ?? '',
    truncatedAlerts: p.truncatedAlerts ?? 0,
    alerts: [...byFingerprint.values()],
  };
}

function time(text: string, field: string): number | null {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new PayloadError(`body/${field.replace(/\[(\d+)\]/g, '/$1').replace(/\./g, '/')} is not an RFC 3339 time: "${text.slice(0, 64)}"`);
  // Go's zero time (0001-01-01T00:00:00Z) is how Alertmanager says "no end yet".
  return ms <= 0 ? null : ms;
}
