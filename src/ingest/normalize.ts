import { toLabels } from '../classify/labels.js';
import type { AlertLinks, AlertSource, GroupNotification, IncomingAlert } from '../incidents/model.js';
import { labelsFingerprint } from './fingerprint.js';
import { PayloadError } from '../http/payload-error.js';
import type { WebhookPayload } from './webhook-schema.js';

/** What normalize() needs besides the body: when it arrived and who says they sent it. */
export interface Received {
  at: number;
  /** The User-Agent header: "Alertmanager/0.25.0", "Grafana/11.2.0", ... */
  userAgent?: string | undefined;
}

/**
 * Turns a schema-valid payload into the domain's notification: times as epoch ms (Go's zero time
 * means "not set"), labels in null-prototype objects, hostile keys dropped. When one payload lists
 * a fingerprint twice, the last entry wins.
 *
 * What a sender leaves out is derived (docs/alertmanager.md, "What the webhook takes"): the
 * fingerprint from the labels as Alertmanager computes it, the groupKey from the receiver's group
 * labels, an alert's status from its endsAt, the group's status from its alerts, and a missing
 * startsAt is the time the body was received.
 */
export function normalize(p: WebhookPayload, received: Received): GroupNotification {
  const byFingerprint = new Map<string, IncomingAlert>();
  p.alerts.forEach((a, i) => {
    const fingerprint = a.fingerprint || labelsFingerprint(a.labels);
    const endsAt = a.endsAt ? time(a.endsAt, `alerts[${i}].endsAt`) : null;
    const startsAt = a.startsAt ? time(a.startsAt, `alerts[${i}].startsAt`) : null;
    const alert: IncomingAlert = {
      fingerprint,
      // Alertmanager's own rule: an alert whose end has passed is resolved.
      status: a.status || (endsAt !== null && endsAt <= received.at ? 'resolved' : 'firing'),
      labels: toLabels(a.labels),
      annotations: toLabels(a.annotations),
      startsAt: startsAt ?? received.at,
      endsAt,
      generatorUrl: a.generatorURL ?? '',
    };
    if (startsAt === null) alert.startsAtReceived = true;
    const links = linksOf(a);
    if (links) alert.links = links;
    byFingerprint.set(fingerprint, alert);
  });
  const alerts = [...byFingerprint.values()];
  const groupLabels = toLabels(p.groupLabels);
  const receiver = p.receiver || 'webhook';
  return {
    receiver,
    groupKey: p.groupKey === undefined ? derivedGroupKey(receiver, groupLabels) : String(p.groupKey),
    status: p.status || (alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved'),
    groupLabels,
    commonLabels: toLabels(p.commonLabels),
    commonAnnotations: toLabels(p.commonAnnotations),
    externalUrl: p.externalURL ?? '',
    source: sourceOf(p, received.userAgent),
    truncatedAlerts: p.truncatedAlerts ?? 0,
    alerts,
  };
}

/**
 * A groupKey in Alertmanager's own form ({route}:{group labels}), with the receiver as the route:
 * the same group labels from the same receiver are one group, and no group labels is one group per
 * receiver, as Alertmanager's `group_by: []` is.
 */
export function derivedGroupKey(receiver: string, groupLabels: Readonly<Record<string, string>>): string {
  const pairs = Object.keys(groupLabels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(groupLabels[k])}`);
  return `{${JSON.stringify(receiver)}}:{${pairs.join(', ')}}`;
}

/** Grafana says version "1" and its organisation; Alertmanager says version "4" (and its name in the User-Agent). */
function sourceOf(p: WebhookPayload, userAgent: string | undefined): AlertSource {
  const agent = (userAgent ?? '').toLowerCase();
  if (p.version === '1' || p.orgId !== undefined || agent.startsWith('grafana')) return 'grafana';
  if (p.version === '4' || agent.startsWith('alertmanager')) return 'alertmanager';
  return 'other';
}

const MAX_VALUES = 50;

/** Grafana's links, http(s) only (a javascript: URL is not a link), and its finite values; undefined when there are none. */
function linksOf(a: WebhookPayload['alerts'][number]): AlertLinks | undefined {
  const links: AlertLinks = {};
  const silence = httpUrl(a.silenceURL);
  const dashboard = httpUrl(a.dashboardURL);
  const panel = httpUrl(a.panelURL);
  if (silence) links.silenceUrl = silence;
  if (dashboard) links.dashboardUrl = dashboard;
  if (panel) links.panelUrl = panel;
  if (a.values) {
    const values: Record<string, number | null> = Object.create(null) as Record<string, number | null>;
    let n = 0;
    for (const [k, v] of Object.entries(a.values)) {
      if (n >= MAX_VALUES) break;
      if (typeof v === 'number' && Number.isFinite(v)) values[k] = v;
      else if (v === null) values[k] = null;
      else continue;
      n++;
    }
    if (n > 0) links.values = values;
  }
  return Object.keys(links).length ? links : undefined;
}

function httpUrl(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? text : undefined;
  } catch {
    return undefined;
  }
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
