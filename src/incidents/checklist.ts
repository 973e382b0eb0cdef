import { SEVERITIES, type Severity } from '../classify/severity.js';
import type { RawChecklists } from './checklist-schema.js';
import type { Incident } from './model.js';
import type { ChecklistState, TimelineEntry } from './timeline.js';

/** A heading of a checklist and its steps; a step is identified by its text. */
export interface ChecklistSection {
  section: string;
  steps: string[];
}

/** The checklists in force: per severity, the closing list, and per classification rule. */
export interface ChecklistConfig {
  /** Critical's is the breach playbook, for the rules of `securityRules`. */
  bySeverity: Record<Severity, ChecklistSection[]>;
  /** Every other Critical's: an outage is answered by restoring service, not by taking systems offline. */
  criticalOutage: ChecklistSection[];
  /** The classification rules of category security. */
  securityRules: ReadonlySet<string>;
  afterAny: ChecklistSection;
  byRule: ReadonlyMap<string, ChecklistSection[]>;
}

// The incident response plan's steps, in its words, shortened to what fits a phone.
const PLAN: Record<Severity, ChecklistSection[]> = {
  critical: [
    {
      section: 'Immediate actions (first 5 minutes)',
      steps: [
        'STOP: take the affected systems offline',
        'PRESERVE: save all logs before anything else changes',
        'NOTIFY: alert the team in #security-incident',
        'ASSESS: what was accessed, since when, and who is affected',
      ],
    },
    {
      section: 'Containment (first hour)',
      steps: [
        'REVOKE: invalidate all tokens and sessions',
        'CHANGE: rotate all credentials',
        'ISOLATE: disconnect from the internet if needed',
      ],
    },
    {
      section: 'Investigation (first 24 hours)',
      steps: [
        'ANALYZE: examine logs, recent deployments and modified files',
        'AUDIT: check database integrity',
        'FORENSICS: call in an external security firm if the breach is major',
      ],
    },
    {
      section: 'Recovery (hour 4+)',
      steps: [
        'PATCH: fix the vulnerability',
        'RESTORE: from a known-good backup',
        'REBUILD: redeploy from scratch',
        'RESTART: bring the system online and watch the health checks',
      ],
    },
  ],
  high: [
    {
      section: 'Response (1 hour)',
      steps: [
        'IDENTIFY: which service is down',
        'RESTART: try a simple restart of that service',
        'CHECK: is it a resource issue (disk, memory)?',
        'RESTORE: redeploy the service if it is corrupted',
        'NOTIFY: post a status update if it stays down over 15 minutes',
      ],
    },
  ],
  medium: [
    {
      section: 'Response (4 hours)',
      steps: [
        'INVESTIGATE: which endpoint or query is slow',
        'ANALYZE: look for slow queries',
        'FIX: add an index or cache, restart if memory leaks',
      ],
    },
  ],
  low: [
    {
      section: 'Response (24 hours)',
      steps: ['Check the logs of the service', 'Restart the container if needed', "Monitor; don't escalate unless a pattern emerges"],
    },
  ],
};

// The plan's Critical section is "Active Breach/Compromise"; a system that is down (no data
// exposed) gets the plan's outage steps, at the Critical pace.
const CRITICAL_OUTAGE: ChecklistSection[] = [
  {
    section: 'Outage response (immediately)',
    steps: [
      'IDENTIFY: which service is down, and what changed last',
      'RESTART: try a simple restart of that service',
      'CHECK: is it a resource issue (disk, memory)?',
      'RESTORE: redeploy the service, or roll back the last change',
      'NOTIFY: post a status update if it stays down over 15 minutes',
    ],
  },
  {
    section: 'Follow-up',
    steps: ['CONFIRM: health checks and error rates are back to normal', 'RECORD: the timeline of the outage in this incident'],
  },
];

const AFTER_ANY: ChecklistSection = {
  section: 'After any incident',
  steps: [
    'Root cause identified',
    'Security patches applied',
    'All credentials rotated',
    'Code review completed',
    'Monitoring enhanced',
    'Documentation updated',
    'Team trained on prevention',
    'Post-mortem meeting held',
    'Status page updated',
    'Users notified (if applicable)',
  ],
};

/** The plan's checklists, used where the config says nothing. */
export const PLAN_CHECKLISTS: ChecklistConfig = {
  bySeverity: PLAN,
  criticalOutage: CRITICAL_OUTAGE,
  securityRules: new Set(),
  afterAny: AFTER_ANY,
  byRule: new Map(),
};

/**
 * Builds the checklists from the config section, the plan's filling what it leaves out. `ruleNames`
 * are the classification rules: an override for a rule that does not exist is a typo, reported
 * through `fail` with its key.
 */
export function parseChecklists(
  raw: RawChecklists | undefined,
  rules: readonly { name: string; category?: 'security' | 'availability' | undefined }[],
  fail: (key: string, message: string) => never,
): ChecklistConfig {
  const ruleNames = rules.map((r) => r.name);
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, raw?.[s] ?? PLAN[s]])) as Record<Severity, ChecklistSection[]>;
  const criticalOutage = raw?.criticalOutage ?? CRITICAL_OUTAGE;
  const byRule = new Map<string, ChecklistSection[]>();
  for (const [rule, sections] of Object.entries(raw?.rules ?? {})) {
    if (!ruleNames.includes(rule)) fail(`checklists.rules.${rule}`, `no classification rule is named "${rule}"`);
    byRule.set(rule, sections);
  }
  for (const [key, sections] of [
    ...SEVERITIES.map((s) => [s, bySeverity[s]] as const),
    ['criticalOutage', criticalOutage] as const,
    ...byRule,
  ]) {
    const seen = new Set<string>();
    for (const step of [...sections, raw?.afterAny ?? AFTER_ANY].flatMap((s) => s.steps)) {
      // A step is identified by its text in the timeline: two steps with one text could not be told apart.
      if (seen.has(step)) fail(`checklists.${byRule.has(key) ? `rules.${key}` : key}`, `the step "${step}" appears twice`);
      seen.add(step);
    }
  }
  const securityRules = new Set(rules.filter((r) => r.category === 'security').map((r) => r.name));
  return { bySeverity, criticalOutage, securityRules, afterAny: raw?.afterAny ?? AFTER_ANY, byRule };
}

/**
 * The response steps for an incident: its rule's override, else its severity's; a Critical gets
 * the breach playbook only when a security rule found it, the outage one otherwise.
 */
export function responseSteps(config: ChecklistConfig, incident: Pick<Incident, 'severity' | 'rule'>): ChecklistSection[] {
  const own = config.byRule.get(incident.rule);
  if (own) return own;
  if (incident.severity === 'critical' && !config.securityRules.has(incident.rule)) return config.criticalOutage;
  return config.bySeverity[incident.severity];
}

/** The whole checklist of an incident: the response steps, then the closing list. */
export function checklistFor(config: ChecklistConfig, incident: Pick<Incident, 'severity' | 'rule'>): ChecklistSection[] {
  return [...responseSteps(config, incident), config.afterAny];
}

/** The first response a page tells its reader: the first section of the incident's response steps. */
export function firstResponse(config: ChecklistConfig, incident: Pick<Incident, 'severity' | 'rule'>): string[] {
  return responseSteps(config, incident)[0]?.steps ?? [];
}

/** Where one step stands: its last tick, untick or problem, by whom and when. */
export interface StepStatus {
  state: ChecklistState;
  actor: string;
  at: number;
  note?: string;
}

/** The latest status of every step that was ever ticked, from the timeline (the Verification Log). */
export function checklistStatus(timeline: readonly TimelineEntry[]): Map<string, StepStatus> {
  const status = new Map<string, StepStatus>();
  for (const e of timeline) {
    if (e.kind === 'checklist') status.set(e.step, { state: e.state, actor: e.actor, at: e.at, ...(e.note ? { note: e.note } : {}) });
  }
  return status;
}

/** The post-incident fields of the plan's report. */
export interface Review {
  rootCause: string;
  impact: string;
  prevention: string;
}

/** The latest post-incident review saved on the incident, with who saved it and when; null if none. */
export function latestReview(timeline: readonly TimelineEntry[]): (Review & { actor: string; at: number }) | null {
  for (let i = timeline.length - 1; i >= 0; i--) {
    const e = timeline[i]!;
    if (e.kind === 'review') return { rootCause: e.rootCause, impact: e.impact, prevention: e.prevention, actor: e.actor, at: e.at };
  }
  return null;
}
