import { formatDuration } from './duration.js';
import type { IncidentWithDetails } from './model.js';
import type { TimelineKind } from './timeline.js';
import { describeEntry } from './timeline-text.js';
import type { SlaPolicy } from './incident-machine.js';
import { checklistStatus, latestReview, type ChecklistSection } from './checklist.js';

// The plan's report headings ("DOCUMENT" step) name each step of the response.
const STEP: Record<TimelineKind, string> = {
  opened: 'Detection',
  alert_firing: 'Alert firing',
  alert_resolved: 'Alert resolved',
  alerts_changed: 'Alerts changed',
  severity_raised: 'Escalation',
  sla_breached: 'SLA missed',
  acknowledged: 'Response',
  resolved: 'Resolution',
  alerts_truncated: 'Note',
  escalated: 'Escalation',
  reminder: 'Reminder',
  paged: 'Alerting',
  page_failed: 'Alerting failed',
  page_retrying: 'Alerting retry',
  note: 'Note',
  checklist: 'Checklist',
  review: 'Review',
};

const when = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);
const title = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Escapes text from alerts so it cannot break out of the report's Markdown (tables, links, HTML). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]<>()#+!|~]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

/**
 * The plan's incident report as Markdown, built only from the incident's own history: the
 * timeline, the severity and the rule that chose it, whether the deadline was kept, the times to
 * acknowledge and resolve, the alerts, and headings for the team to fill in.
 */
export function renderReport(incident: IncidentWithDetails, sla: SlaPolicy, now: number, checklist: ChecklistSection[] = []): string {
  const i = incident;
  const detected = detectedAt(i);
  const out: string[] = [];
  out.push(`## Incident Report - ${when(i.openedAt).slice(0, 10)}: ${escapeMarkdown(i.title)}`, '');
  out.push('| | |', '|---|---|');
  out.push(`| Incident | #${i.id} (\`${i.key.replace(/`/g, "'")}\`) |`);
  out.push(`| Severity | ${title(i.severity)}, chosen by rule \`${i.rule}\` |`);
  if (i.team !== null) out.push(`| Team | ${escapeMarkdown(i.team)} |`);
  out.push(`| Status | ${i.status} |`);
  out.push(`| Detected | ${when(detected)} (first alert started; received ${when(i.openedAt)}) |`);
  out.push(`| Response deadline | ${when(i.respondBy)} (${formatDuration(sla[i.severity])} for ${i.severity}): ${slaVerdict(i, now)} |`);
  out.push(
    `| Acknowledged | ${i.acknowledgedAt === null ? 'not yet' : `${when(i.acknowledgedAt)} by ${escapeMarkdown(i.acknowledgedBy ?? 'unknown')}, ${formatDuration(i.acknowledgedAt - detected)} after detection`} |`,
  );
  out.push(
    `| Resolved | ${i.resolvedAt === null ? 'not yet' : `${when(i.resolvedAt)} by ${escapeMarkdown(i.resolvedBy ?? 'unknown')}, ${formatDuration(i.resolvedAt - detected)} after detection`} |`,
  );
  out.push('');

  out.push('### Timeline');
  let day = '';
  for (const t of i.timeline) {
    const d = when(t.at).slice(0, 10);
    // Times alone read best; the date is repeated only when the incident crosses midnight.
    const stamp = d === day ? clock(t.at) : `${d} ${clock(t.at)}`;
    day = d;
    out.push(`- ${stamp} - ${STEP[t.kind]}: ${escapeMarkdown(describeEntry(t))}`);
  }
  out.push('');

  out.push('### Alerts');
  out.push('| Alert | Labels | Severity (rule) | Status | Started | Ended |', '|---|---|---|---|---|---|');
  for (const a of i.alerts) {
    const labels = Object.entries(a.labels)
      .filter(([k]) => k !== 'alertname')
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    const summary = a.annotations['summary'] ? `: ${a.annotations['summary']}` : '';
    out.push(
      `| ${escapeMarkdown((a.labels['alertname'] ?? a.fingerprint) + summary)} | ${escapeMarkdown(labels)} | ${a.severity} (${a.rule}) | ${a.status} | ${when(a.startsAt)} | ${
        a.endsAt === null ? '' : when(a.endsAt)
      } |`,
    );
  }
  out.push('');

  if (checklist.length) {
    // The Verification Log: each step as it stands, who marked it and when, ⚠️ with the problem.
    const status = checklistStatus(i.timeline);
    out.push('### Checklist');
    for (const section of checklist) {
      out.push(`#### ${escapeMarkdown(section.section)}`);
      for (const step of section.steps) {
        const st = status.get(step);
        const by = st && st.state !== 'undone' ? ` (${escapeMarkdown(st.actor)}, ${when(st.at)})${st.note ? `: ${escapeMarkdown(st.note)}` : ''}` : '';
        out.push(st?.state === 'problem' ? `- ⚠️ ${escapeMarkdown(step)}${by}` : `- [${st?.state === 'done' ? 'x' : ' '}] ${escapeMarkdown(step)}${by}`);
      }
    }
    out.push('');
  }

  // The post-incident fields as the team last saved them; the plan's placeholders until then.
  const review = latestReview(i.timeline);
  const block = (text: string | undefined, placeholder: string[]) => (text ? text.split('\n').map(escapeMarkdown) : placeholder);
  out.push('### Root Cause', ...block(review?.rootCause, ['[Describe what happened]']), '');
  out.push('### Impact', ...block(review?.impact, ['- X users affected', '- Y data records accessed', '- Z hours of downtime']), '');
  out.push('### Prevention', ...block(review?.prevention, ['[What changed to prevent recurrence]']), '');
  return out.join('\n');
}

/** When the problem was detected: the earliest alert's start (Prometheus saw it then), never after the incident opened. */
export function detectedAt(i: IncidentWithDetails): number {
  return i.alerts.reduce((d, a) => (a.startsAt > 0 && a.startsAt < d ? a.startsAt : d), i.openedAt);
}

function slaVerdict(i: IncidentWithDetails, now: number): string {
  if (i.slaBreached) return '**missed**';
  if (i.acknowledgedAt !== null) return 'kept';
  if (i.status === 'resolved') return 'kept (resolved before the deadline)';
  return now < i.respondBy ? 'pending' : '**missed**';
}
