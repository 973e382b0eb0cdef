import { isMoreSevere, isSeverity, type Severity } from './severity.js';
import { matchAll, parseMatcher, type Labels, type Matcher } from './matcher.js';
import type { ClassificationSection } from './classification-schema.js';

/** The classification section with its defaults filled in. */
export type ClassificationSpec = Omit<ClassificationSection, 'severityLabel' | 'severityLabels'> & {
  severityLabel: string;
  /** The declared-severity label and its table, keys trimmed and in lower case. */
  severityLabels: { label: string; values: Readonly<Record<string, Severity>> };
};

/** The label that decides outright when the config names none. */
export const DEFAULT_SEVERITY_LABEL = 'triage_severity';

/** The conventional Prometheus `severity` values and what they mean in the plan, when the config gives no table. */
export const DEFAULT_SEVERITY_LABELS = {
  label: 'severity',
  values: { critical: 'critical', error: 'high', warning: 'medium', info: 'low' },
} as const satisfies ClassificationSpec['severityLabels'];

/** Builds the spec from the config's section: the defaults filled in, rule names checked. Throws RuleError naming the key. */
export function classificationSpec(section: ClassificationSection): ClassificationSpec {
  const names = new Set<string>();
  section.rules.forEach((r, i) => {
    if (names.has(r.name)) throw new RuleError(`classification.rules[${i}].name`, `"${r.name}" is used by an earlier rule`);
    names.add(r.name);
  });
  const values: Record<string, Severity> = Object.create(null);
  for (const [value, severity] of Object.entries(section.severityLabels?.values ?? DEFAULT_SEVERITY_LABELS.values)) {
    const key = value.trim().toLowerCase();
    if (values[key] !== undefined && values[key] !== severity) {
      throw new RuleError(`classification.severityLabels.values.${value}`, `"${key}" is already mapped to ${values[key]}`);
    }
    values[key] = severity;
  }
  const { severityLabels, ...rest } = section;
  return {
    ...rest,
    severityLabel: section.severityLabel ?? DEFAULT_SEVERITY_LABEL,
    severityLabels: { label: severityLabels?.label ?? DEFAULT_SEVERITY_LABELS.label, values },
  };
}

/** The outcome for one alert: its severity and the name of what decided it. */
export interface Classification {
  severity: Severity;
  rule: string;
}

/** Decides the severity of one alert from its labels. Pure, so it is table-tested. */
export type Classifier = (labels: Labels) => Classification;

export class RuleError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** Names reported when no configured rule decided; the declared severity label reports `label:severity=critical`. */
export const EXPLICIT_RULE = 'explicit-label';
export const DEFAULT_RULE = 'default';

/**
 * Compiles the config's rules once. Throws RuleError naming the offending key
 * (`rules[2].matchers[0]`) for a matcher that does not parse.
 */
export function compileClassifier(spec: ClassificationSpec): Classifier {
  const rules = spec.rules.map((rule, i) => ({
    name: rule.name,
    severity: rule.severity,
    matchers: rule.matchers.map((text, j): Matcher => {
      try {
        return parseMatcher(text);
      } catch (err) {
        throw new RuleError(`classification.rules[${i}].matchers[${j}]`, (err as Error).message);
      }
    }),
  }));
  const declaredBy = spec.severityLabels.label;
  const declaredValues = new Map(Object.entries(spec.severityLabels.values));
  const decide = (labels: Labels): Classification => {
    const explicit = labels[spec.severityLabel]?.trim().toLowerCase();
    if (isSeverity(explicit)) return { severity: explicit, rule: EXPLICIT_RULE };
    // What the alert says of itself (severity: critical): a rule may raise it, never lower it, so
    // an alert-name rule cannot page a declared critical as high.
    const value = labels[declaredBy]?.trim().toLowerCase() ?? '';
    const severity = declaredValues.get(value);
    const declared = severity && { severity, rule: `label:${declaredBy}=${value}` };
    const matched = rules.find((rule) => matchAll(rule.matchers, labels));
    if (!matched) return declared || { severity: spec.defaultSeverity, rule: DEFAULT_RULE };
    if (declared && isMoreSevere(declared.severity, matched.severity)) return declared;
    return { severity: matched.severity, rule: matched.name };
  };

  // The outcome depends only on the labels some matcher names, and an alert storm repeats the
  // same few combinations (alertname, severity) across many instances: remember them.
  const relevant = [...new Set([spec.severityLabel, declaredBy, ...rules.flatMap((r) => r.matchers.map((m) => m.name))])];
  const cache = new Map<string, Classification>();
  return (labels) => {
    const key = relevant.map((name) => labels[name] ?? '').join('\u0000');
    // A hostile sender's megabyte labels are classified (in linear time) but not remembered, or
    // ten thousand of them would hold gigabytes.
    if (key.length > CACHE_KEY_LIMIT) return decide(labels);
    let hit = cache.get(key);
    if (!hit) {
      hit = decide(labels);
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(key, hit);
    }
    return hit;
  };
}

const CACHE_LIMIT = 10_000;
const CACHE_KEY_LIMIT = 4096;
