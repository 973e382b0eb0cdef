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

// RFC 3339, as Go's time.RFC3339Nano writes it: a date, T, a time with optional fraction, and Z or an offset.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Epoch ms of an RFC 3339 time, or undefined for anything else: Date.parse would also take "1"
 * (the year 2001), "May 1" or a date without a zone, and read them as times Alertmanager never sent.
 */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, z, sign, oh, om] = m as unknown as (string | undefined)[];
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, sec].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const offset = z ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  if (!z && (Number(oh) > 23 || Number(om) > 59)) return undefined;
  // setUTCFullYear, not Date.UTC, which reads the years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCMonth() !== month - 1) return undefined; // 2026-02-30
  date.setUTCHours(hour, minute, second, Number((frac ?? '0').padEnd(3, '0').slice(0, 3)));
  return date.getTime() - offset * 60_000;
}

// Alertmanager sends the same few times many times over (every alert's endsAt "0001-01-01T00:00:00Z",
// a group's shared startsAt): the last few parsed are remembered.
const recentTimes = new Map<string, number | undefined>();

function parseRemembered(text: string): number | undefined {
  if (recentTimes.has(text)) return recentTimes.get(text);
  const ms = parseRfc3339(text);
  if (recentTimes.size >= 64) recentTimes.clear();
  if (text.length <= 64) recentTimes.set(text, ms);
  return ms;
}

function time(text: string, field: string): number | null {
  const ms = parseRemembered(text);
  if (ms === undefined)
    throw new PayloadError(
      `body/${field.replace(/\[(\d+)\]/g, '/$1').replace(/\./g, '/')} is not an RFC 3339 time: "${text.slice(0, 64)}"`,
    );
  // Go's zero time (0001-01-01T00:00:00Z) is how Alertmanager says "no end yet".
  return ms <= 0 ? null : ms;
}
