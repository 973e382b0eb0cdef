import Type from 'typebox';

/** Severity classes of the incident response plan, most severe first. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;

/** A severity class of the plan. */
export type Severity = (typeof SEVERITIES)[number];

/** True for one of the plan's four severity names. */
export function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value);
}

/** Lower rank is more severe: critical = 0. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** True when `a` is more severe than `b`. */
export function isMoreSevere(a: Severity, b: Severity): boolean {
  return severityRank(a) < severityRank(b);
}

/** A severity as the config writes it, for the config's schema. */
export const SeverityName = Type.Enum(SEVERITIES);
