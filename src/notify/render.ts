import type { IncidentWithDetails } from '../incidents/model.js';
import { readableUtc, type TimeFormat } from '../incidents/timeline-text.js';
import type { Severity } from '../classify/severity.js';
import { firstResponse, PLAN_CHECKLISTS, type ChecklistConfig } from '../incidents/checklist.js';

/** Colour and label of each severity, as the plan shows them. */
export const SEVERITY_STYLE: Record<Severity, { label: string; emoji: string; color: string }> = {
  critical: { label: 'CRITICAL', emoji: '🔴', color: '#D0021B' },
  high: { label: 'HIGH', emoji: '🟠', color: '#F5A623' },
  medium: { label: 'MEDIUM', emoji: '🟡', color: '#F8E71C' },
  low: { label: 'LOW', emoji: '🟢', color: '#7ED321' },
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

/** "[CRITICAL] title (incident 12)": the e-mail subject and the Slack fallback text. */
export function subject(i: IncidentWithDetails): string {
  return `[${SEVERITY_STYLE[i.severity].label}] ${i.title} (incident ${i.id})`;
}

/** The facts a page shows, as plain strings (escaped by each channel for its own markup). */
export function facts(i: IncidentWithDetails, time: TimeFormat = readableUtc) {
  const firing = i.alerts.filter((a) => a.status === 'firing');
  const shown = firing.length ? firing : i.alerts;
  const first = shown[0];
  const labels = first ? KEY_LABELS.filter((k) => first.labels[k]).map((k) => `${k}=${first.labels[k]}`) : [];
  const runbook = shown.map((a) => a.annotations['runbook_url']).find((u) => u && /^https?:\/\//.test(u));
  return {
    status:
      i.status === 'open'
        ? i.slaBreached
          ? 'open, deadline missed'
          : 'open'
        : i.status === 'acknowledged'
          ? `acknowledged by ${i.acknowledgedBy}`
          : `resolved by ${i.resolvedBy}`,
    respondBy: time(i.respondBy),
    /** What decided the severity: a rule's name or the alert's own label (`label:severity=critical`). */
    severity: `${SEVERITY_STYLE[i.severity].label}, by ${i.rule}`,
    labels,
    summary: first?.annotations['summary'] ?? '',
    description: first?.annotations['description'] ?? '',
    runbook,
    alerts: `${firing.length} firing, ${i.alerts.length - firing.length} resolved`,
  };
}

/**
 * The incident's page under PUBLIC_URL, linked from every Slack and e-mail page: it opens in a
 * browser (the Markdown report at /api/incidents/:id/report needs the API token). Undefined without PUBLIC_URL.
 */
export function incidentUrl(publicUrl: string | undefined, incidentId: number | null): string | undefined {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}/incidents/${incidentId}` : undefined;
}

/** The first response a page shows: the first section of the incident's checklist, from the config in force. */
export function firstSteps(checklists: (() => ChecklistConfig) | undefined, i: IncidentWithDetails): string[] {
  return firstResponse(checklists?.() ?? PLAN_CHECKLISTS, i);
}
