import { isSeverity, type Severity } from './severity.js';
import { matchAll, parseMatcher, type Labels, type Matcher } from './matcher.js';
import type { ClassificationSection } from './classification-schema.js';

/** The classification section with its defaults filled in. */
export type ClassificationSpec = ClassificationSection & { severityLabel: string };

/** The label that decides outright when the config names none. */
export const DEFAULT_SEVERITY_LABEL = 'triage_severity';

/** Builds the spec from the config's section: the defaults filled in, rule names checked. Throws RuleError naming the key. */
export function classificationSpec(section: ClassificationSection): ClassificationSpec {
  const names = new Set<string>();
  section.rules.forEach((r, i) => {
    if (names.has(r.name)) throw new RuleError(`classification.rules[${i}].name`, `"${r.name}" is used by an earlier rule`);
    names.add(r.name);
  });
  return { ...section, severityLabel: section.severityLabel ?? DEFAULT_SEVERITY_LABEL };
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

/** Names reported when no configured rule decided. */
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
  const decide = (labels: Labels): Classification => {
    const explicit = labels[spec.severityLabel]?.trim().toLowerCase();
    if (isSeverity(explicit)) return { severity: explicit, rule: EXPLICIT_RULE };
    for (const rule of rules) {
      if (matchAll(rule.matchers, labels)) return { severity: rule.severity, rule: rule.name };
    }
    return { severity: spec.defaultSeverity, rule: DEFAULT_RULE };
  };

  // The outcome depends only on the labels some matcher names, and an alert storm repeats the
  // same few combinations (alertname, severity) across many instances: remember them.
  const relevant = [...new Set([spec.severityLabel, ...rules.flatMap((r) => r.matchers.map((m) => m.name))])];
  const cache = new Map<string, Classification>();
  return (labels) => {
    const key = relevant.map((name) => labels[name] ?? '').join('\u0000');
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
