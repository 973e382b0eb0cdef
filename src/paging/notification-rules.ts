import { SEVERITIES, type Severity } from '../classify/severity.js';
import { formatDuration } from '../incidents/duration.js';

// Each person's notification rules: how a page reaches a person, by severity, as an ordered list
// of `{method, after}` (incident.io's and GoAlert's model). A method is a channel name from the
// registry (sms, voice, ntfy, ...), never a closed list, so that a channel added later is a
// contact method at once. Slack and e-mail steps are met by the route (the mention in the room,
// the route's e-mail), so they add no page of their own: they are listed so the rules read whole.

/** An E.164 number: a plus, a country code, at most 15 digits. */
export const E164 = /^\+[1-9][0-9]{6,14}$/;

/** One step: page the person through `method`, `afterMs` after the event (an opening, a raise, an escalation step). */
export interface RuleStep {
  method: string;
  afterMs: number;
}

/** A person's (or a team's) rules: for each severity, the steps in order of time. */
export type NotificationRules = Record<Severity, RuleStep[]>;

/** Methods the route itself serves: a step on them adds no page (the room's mention, the route's e-mail). */
export const ROUTED_METHODS: ReadonlySet<string> = new Set(['slack', 'email']);

/**
 * The plan's defaults: a Critical wakes someone (Slack and a text at once, a call after a minute,
 * a call again at five), a High texts, Medium and Low never ring a phone.
 */
export const DEFAULT_RULES: NotificationRules = {
  critical: [
    { method: 'slack', afterMs: 0 },
    { method: 'sms', afterMs: 0 },
    { method: 'voice', afterMs: 60_000 },
    { method: 'voice', afterMs: 5 * 60_000 },
  ],
  high: [
    { method: 'slack', afterMs: 0 },
    { method: 'sms', afterMs: 0 },
  ],
  medium: [{ method: 'slack', afterMs: 0 }],
  low: [],
};

/** Steps in order of time (a stable sort: steps at the same time keep their written order). */
export function ordered(steps: readonly RuleStep[]): RuleStep[] {
  return [...steps].sort((a, b) => a.afterMs - b.afterMs);
}

/** A person's own rules as stored (from /me): only the severities they changed. */
export type PersonalRules = Partial<NotificationRules>;

/**
 * Why a person's own rules cannot stand against the team's, or undefined when they can. A person
 * may tighten as they like and loosen High, Medium and Low, but a Critical keeps every step the
 * team gives it, on the same method and no later: its rules can never turn a Critical into silence.
 */
export function personalRulesProblem(team: NotificationRules, personal: PersonalRules): string | undefined {
  const mine = personal.critical;
  if (!mine) return undefined;
  if (!mine.length && team.critical.some((s) => !ROUTED_METHODS.has(s.method)))
    return 'Critical cannot be silenced: keep at least the team\u2019s steps';
  const left = [...mine];
  // Slack and e-mail come with the route whatever the person's rules say.
  for (const step of ordered(team.critical).filter((s) => !ROUTED_METHODS.has(s.method))) {
    // Each team step is met by one personal step of the same method at the same time or sooner.
    const i = left.findIndex((s) => s.method === step.method && s.afterMs <= step.afterMs);
    if (i < 0) return `Critical must keep ${step.method} at ${formatDuration(step.afterMs)} or sooner (the team\u2019s rule)`;
    left.splice(i, 1);
  }
  return undefined;
}

/** The rules that apply to a person: their own for the severities they set (when allowed), the team's otherwise. */
export function effectiveRules(team: NotificationRules, personal: PersonalRules | undefined): NotificationRules {
  if (!personal || personalRulesProblem(team, personal)) return team;
  const out = { ...team };
  for (const s of SEVERITIES) {
    const mine = personal[s];
    if (mine) out[s] = ordered(mine);
  }
  return out;
}

/** The steps of `rules` for `severity` that page a person directly (not met by the route), with their place. */
export function personalSteps(rules: NotificationRules, severity: Severity): { step: RuleStep; lastOfMethod: boolean }[] {
  const steps = ordered(rules[severity]).filter((s) => !ROUTED_METHODS.has(s.method));
  return steps.map((step, i) => ({ step, lastOfMethod: !steps.slice(i + 1).some((s) => s.method === step.method) }));
}
