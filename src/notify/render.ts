import type { IncidentWithDetails } from '../incidents/model.js';
import type { Severity } from '../classify/severity.js';

/** Colour and label of each severity, as the plan shows them. */
export const SEVERITY_STYLE: Record<Severity, { label: string; emoji: string; color: string }> = {
  critical: { label: 'CRITICAL', emoji: '🔴', color: '#D0021B' },
  high: { label: 'HIGH', emoji: '🟠', color: '#F5A623' },
  medium: { label: 'MEDIUM', emoji: '🟡', color: '#F8E71C' },
  low: { label: 'LOW', emoji: '🟢', color: '#7ED321' },
};

/** The plan's first response steps for each severity. */
export const FIRST_STEPS: Record<Severity, string[]> = {
  critical: [
    'STOP: take the affected systems offline',
    'PRESERVE: save all logs before anything else changes',
    'NOTIFY: alert the team in #security-incident',
    'ASSESS: what was accessed, since when, and who is affected',
  ],
  high: [
    'IDENTIFY: which service is down',
    'RESTART: try a simple restart of that service',
    'CHECK: is it a resource issue (disk, memory)?',
    'NOTIFY: post a status update if it stays down over 15 minutes',
  ],
  medium: ['INVESTIGATE: which endpoint or query is slow', 'ANALYZE: look for slow queries', 'FIX: add an index or cache, restart if memory leaks'],
  low: ['Check the logs of the service', 'Restart the container if needed', "Monitor; don't escalate unless a pattern emerges"],
};

const KEY_LABELS = ['alertname', 'service', 'job', 'instance', 'category', 'namespace', 'severity'];

/** Escapes text for Slack mrkdwn: &, < and > are the control characters; this also defuses <!channel> and <@U…>. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// Slack has no escape for its formatting characters (a backslash shows as a backslash), so text
// from labels and annotations gets lookalikes that Slack does not read as markup: *bold*, _it_,
// ~struck~ and `code` stay as typed, and a leading > does not quote.
const MRKDWN_LOOKALIKES: Record<string, string> = { '*': '\u2217', _: '\u02cd', '~': '\u223c', '`': '\u02cb' };

/** Escapes text that comes from alerts or people for a Slack mrkdwn field: slackEscape plus formatting characters. */
export function slackText(text: string): string {
  return slackEscape(text)
    .replace(/[*_~`]/g, (c) => MRKDWN_LOOKALIKES[c]!)
    .replace(/^&gt;/gm, '\u00ad&gt;');
}

/**
 * A URL for Slack's `<url|text>`: `|` would end the URL and let the alert write the link text, and
 * `<` `>` would end the link, so they are percent-encoded; `&` is written as Slack asks.
 */
export function slackUrl(url: string): string {
  return url.replace(/[|<>\s]/g, (c) => encodeURIComponent(c)).replace(/&/g, '&amp;');
}

/** Escapes text for HTML. */
export function htmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** "[CRITICAL] title (incident 12)": the e-mail subject and the Slack fallback text. */
export function subject(i: IncidentWithDetails): string {
  return `[${SEVERITY_STYLE[i.severity].label}] ${i.title} (incident ${i.id})`;
}

/** The facts a page shows, as plain strings (escaped by each channel for its own markup). */
export function facts(i: IncidentWithDetails) {
  const firing = i.alerts.filter((a) => a.status === 'firing');
  const shown = firing.length ? firing : i.alerts;
  const first = shown[0];
  const labels = first ? KEY_LABELS.filter((k) => first.labels[k]).map((k) => `${k}=${first.labels[k]}`) : [];
  const runbook = shown.map((a) => a.annotations['runbook_url']).find((u) => u && /^https?:\/\//.test(u));
  return {
    status: i.status === 'open' ? (i.slaBreached ? 'open, deadline missed' : 'open') : i.status === 'acknowledged' ? `acknowledged by ${i.acknowledgedBy}` : `resolved by ${i.resolvedBy}`,
    respondBy: utc(i.respondBy),
    /** What decided the severity: a rule's name or the alert's own label (`label:severity=critical`). */
    severity: `${SEVERITY_STYLE[i.severity].label}, by ${i.rule}`,
    labels,
    summary: first?.annotations['summary'] ?? '',
    description: first?.annotations['description'] ?? '',
    runbook,
    alerts: `${firing.length} firing, ${i.alerts.length - firing.length} resolved`,
  };
}

/** The incident report's address under PUBLIC_URL, linked from every page; undefined without PUBLIC_URL. */
export function reportUrl(publicUrl: string | undefined, incidentId: number | null): string | undefined {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}/api/incidents/${incidentId}/report` : undefined;
}
