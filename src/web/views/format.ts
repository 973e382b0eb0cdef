import type { Severity } from '../../classify/severity.js';
import { formatDuration } from '../../incidents/duration.js';
import type { Incident, IncidentStatus } from '../../incidents/model.js';
import { html, type Html } from '../html.js';

// Words and times every page shows the same way.

/** The severities and statuses as the pages name them. */
export const SEVERITY_LABEL: Record<Severity, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low' };
export const STATUS_LABEL: Record<IncidentStatus, string> = { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved' };

/** A time to the minute, in UTC. */
export const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
/** A time for a `<time datetime>` attribute. */
export const iso = (ms: number) => new Date(ms).toISOString();

/** "in 4m" or "12m ago"; rounded to the minute past an hour, so it reads at a glance. */
export function relative(ms: number, now: number): string {
  const d = ms - now;
  const abs =
    Math.abs(d) < 60_000 ? `${Math.max(0, Math.round(Math.abs(d) / 1000))}s` : formatDuration(Math.round(Math.abs(d) / 60_000) * 60_000);
  return d >= 0 ? `in ${abs}` : `${abs} ago`;
}

/** What decided the severity, in words: a rule's name, or the alert's own label. */
export function decidedBy(rule: string): string {
  if (rule.startsWith('label:')) return `the alert's label ${rule.slice('label:'.length)}`;
  if (rule === 'default') return 'the default severity (no rule matched)';
  if (rule === 'explicit-label') return 'the triage_severity label';
  return `rule ${rule}`;
}

/** The deadline as the list and the page show it: a countdown, "breached", or kept. */
export function deadline(i: Incident, now: number): Html {
  if (i.slaBreached || (i.acknowledgedAt === null && i.status !== 'resolved' && now >= i.respondBy)) {
    return html`<span class="breached">breached</span>`;
  }
  if (i.acknowledgedAt !== null) return html`<span class="kept">responded</span>`;
  return html`<time class="countdown" datetime="${iso(i.respondBy)}" data-deadline="${i.respondBy}">${relative(i.respondBy, now)}</time>`;
}
