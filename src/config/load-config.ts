import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { wellFormedDeep } from '../well-formed.js';
import { classificationSpec, compileClassifier, RuleError, type ClassificationSpec, type Classifier } from '../classify/classifier.js';
import { parseDuration } from '../incidents/duration.js';
import type { SlaPolicy } from '../incidents/incident-machine.js';
import { SEVERITIES, type Severity } from '../classify/severity.js';
import { TriageConfigSchema, type RawConfig } from './config-schema.js';
import { parsePaging, type PagingConfig } from '../paging/paging-config.js';
import { parseChecklists, type ChecklistConfig } from '../incidents/checklist.js';
import { parsePeople, type PeopleConfig } from '../people/people-config.js';
import { parseStatusPage, type StatusPageConfig } from '../incidents/status-page.js';

/** The validated contents of config/triage.yml. */
export interface TriageConfig {
  /** Where it was read from, for messages. */
  file: string;
  server: {
    bodyLimit: number;
    requestTimeoutMs: number;
    connectionTimeoutMs: number;
    backlog: number;
    /** The public status page's cached answers per second on the service's own port (docs/adr/0007). */
    statusAnswersPerSecond: number;
    /** The same on the status listener's thread (STATUS_PORT); none: as many as it can. */
    statusPortAnswersPerSecond: number | undefined;
  };
  sla: SlaPolicy;
  scheduler: { intervalMs: number };
  classification: ClassificationSpec;
  classify: Classifier;
  paging: PagingConfig;
  /** The checklists responders tick on the incident page; the first section is the pages' first response. */
  checklists: ChecklistConfig;
  /** The heartbeats expected: each Alertmanager's Watchdog and the monitors' POSTs. */
  heartbeats: HeartbeatConfig;
  /** The Alertmanager peers silences are made on, in order; none: the incident's externalURL. */
  alertmanager: { urls: string[] };
  /** Who may do what: the default role, people unknown to the config, roles from identity-provider groups. */
  people: PeopleConfig;
  /** The public status page: its title and components (docs/status-page.md). */
  statusPage: StatusPageConfig;
}

/** heartbeats: in the config file, with durations in ms and defaults filled in. */
export interface HeartbeatConfig {
  watchdog: { alertname: string; sources: { name: string; externalUrls: string[]; timeoutMs: number }[] };
  monitors: { name: string; timeoutMs: number }[];
}

/** A configuration problem; the message names the file (or variable) and the key at fault. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile<RawConfig>(TriageConfigSchema);

/**
 * /status answers per second on the webhook's port (its event loop): about 5% of a core at some
 * 90 µs an answer, and 7,500 visitors revalidating every 15 s (docs/status-page.md "Load").
 */
export const DEFAULT_STATUS_ANSWERS_PER_SECOND = 500;
/** yaml's default, said here: a config shares a route or two by alias, never thousands of nodes. */
const MAX_ALIAS_COUNT = 100;
/**
 * Connections the kernel holds for the service until its event loop accepts them (listen(2)'s
 * backlog; Linux caps it at net.core.somaxconn, 4096 by default since 5.4). Node's own 511 was too
 * few in a storm: Alertmanager opens a connection per group at once, and while the event loop was
 * busy the queue overflowed and the kernel reset connections (SYN cookies failing), which
 * Alertmanager counts as failed notifications and sends again. Not more: the queue is first come,
 * first served, and a Critical behind 9,000 queued connections waited 11 s in a storm benchmark,
 * where one dropped at a full queue of 4,096 is sent again after a second (docs/operations.md "Storms").
 */
export const DEFAULT_BACKLOG = 4096;

const SIZE_UNITS: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** Reads and validates a config file. Throws ConfigError naming the file and the offending key. */
export function loadConfigFile(file: string): TriageConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${file}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); set TRIAGE_CONFIG to its path`,
    );
  }
  return parseConfig(text, file);
}

/** Parses and validates config text; `file` is only used in messages. */
export function parseConfig(text: string, file: string): TriageConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(`${file}: invalid YAML: ${doc.errors[0]!.message}`);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml throws a plain ReferenceError for an alias bomb ("billion laughs"): a config error
    // like any other, so a reload answers 400 and a start exits 78, each naming the file.
    const message = (err as Error).message;
    if (/alias count/i.test(message))
      throw new ConfigError(`${file}: invalid YAML: too many aliases (maxAliasCount ${MAX_ALIAS_COUNT}): ${message}`);
    throw new ConfigError(`${file}: invalid YAML: ${message}`);
  }
  // Names and channels from the file reach the stores as text, so they are mended as a webhook is.
  raw = wellFormedDeep(raw);
  if (!validate(raw)) throw new ConfigError(`${file}: ${describe(validate.errors ?? [])}`);

  const sla = Object.fromEntries(SEVERITIES.map((s) => [s, durationAt(file, `sla.${s}`, raw.sla[s])])) as Record<Severity, number>;
  for (const s of SEVERITIES) {
    if (sla[s] <= 0) throw new ConfigError(`${file}: sla.${s}: must be longer than 0s`);
  }
  let classification: ClassificationSpec;
  let classify: Classifier;
  try {
    classification = classificationSpec(raw.classification);
    classify = compileClassifier(classification);
  } catch (err) {
    if (err instanceof RuleError) throw new ConfigError(`${file}: ${err.path}: ${err.message}`);
    throw err;
  }
  const paging = parsePaging(raw, (key, message) => {
    throw new ConfigError(`${file}: ${key}: ${message}`);
  });
  const checklists = parseChecklists(raw.checklists, raw.classification.rules, (key, message) => {
    throw new ConfigError(`${file}: ${key}: ${message}`);
  });
  return {
    file,
    paging,
    checklists,
    people: parsePeople(raw.people),
    statusPage: parseStatusPage(raw.statusPage, (key, message) => {
      throw new ConfigError(`${file}: ${key}: ${message}`);
    }),
    server: {
      bodyLimit: sizeAt(raw.server?.bodyLimit ?? '10MiB'),
      requestTimeoutMs: positiveDurationAt(file, 'server.requestTimeout', raw.server?.requestTimeout ?? '30s'),
      connectionTimeoutMs: durationAt(file, 'server.connectionTimeout', raw.server?.connectionTimeout ?? '60s'),
      backlog: raw.server?.backlog ?? DEFAULT_BACKLOG,
      statusAnswersPerSecond: raw.server?.statusAnswersPerSecond ?? DEFAULT_STATUS_ANSWERS_PER_SECOND,
      statusPortAnswersPerSecond: raw.server?.statusPortAnswersPerSecond,
    },
    sla,
    scheduler: { intervalMs: Math.max(100, durationAt(file, 'scheduler.interval', raw.scheduler?.interval ?? '5s')) },
    classification,
    classify,
    heartbeats: heartbeatsOf(file, raw.heartbeats),
    alertmanager: { urls: (raw.alertmanager?.urls ?? []).map((u) => u.replace(/\/+$/, '')) },
  };
}

function heartbeatsOf(file: string, raw: RawConfig['heartbeats']): HeartbeatConfig {
  const defaultMs = positiveDurationAt(file, 'heartbeats.watchdog.timeout', raw?.watchdog?.timeout ?? '5m');
  const seen = new Set<string>();
  const once = (key: string, name: string) => {
    if (seen.has(key + name)) throw new ConfigError(`${file}: ${key}: "${name}" is listed twice`);
    seen.add(key + name);
  };
  return {
    watchdog: {
      alertname: raw?.watchdog?.alertname ?? 'Watchdog',
      sources: (raw?.watchdog?.sources ?? []).map((s, i) => {
        once('heartbeats.watchdog.sources', s.name);
        return {
          name: s.name,
          externalUrls: (s.externalUrls ?? []).map((u) => u.replace(/\/+$/, '')),
          timeoutMs: s.timeout ? positiveDurationAt(file, `heartbeats.watchdog.sources[${i}].timeout`, s.timeout) : defaultMs,
        };
      }),
    },
    monitors: (raw?.monitors ?? []).map((m, i) => {
      once('heartbeats.monitors', m.name);
      return { name: m.name, timeoutMs: positiveDurationAt(file, `heartbeats.monitors[${i}].timeout`, m.timeout) };
    }),
  };
}

/** A duration that must be more than 0 (0 would switch a timeout off). */
function positiveDurationAt(file: string, key: string, text: string): number {
  const ms = durationAt(file, key, text);
  if (ms <= 0) throw new ConfigError(`${file}: ${key}: must be longer than 0s`);
  return ms;
}

function durationAt(file: string, key: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new ConfigError(`${file}: ${key}: "${text}" is not a duration such as 30s, 5m or 1h30m`);
  return ms;
}

function sizeAt(value: number | string): number {
  if (typeof value === 'number') return value;
  const [, n, unit] = /^(\d+)([A-Za-z]*)$/.exec(value)!;
  return Number(n) * SIZE_UNITS[unit || 'B']!;
}

/** Turns ajv's first errors into "classification.rules[2].severity: must be one of …". */
function describe(errors: ErrorObject[]): string {
  // The most specific error is the most useful one; anyOf branches repeat themselves.
  const e = errors.find((x) => x.keyword !== 'anyOf') ?? errors[0]!;
  let path = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
  let message = e.message ?? 'is invalid';
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    path = path ? `${path}.${extra}` : extra;
    message = 'is not a known key';
  } else if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    path = path ? `${path}.${missing}` : missing;
    message = 'is required';
  } else if (e.keyword === 'enum') {
    message = `must be one of ${(e.params as { allowedValues: string[] }).allowedValues.join(', ')}`;
  }
  return `${path || '(top level)'}: ${message}`;
}
