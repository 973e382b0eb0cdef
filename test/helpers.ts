import { Writable } from 'node:stream';
import { pino, type LoggerOptions } from 'pino';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppConfig, type AppDeps } from '../src/app.js';
import { ManualClock, type Clock } from '../src/clock.js';
import { loadConfigFile, type TriageConfig } from '../src/config/load-config.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { WebhookPayload } from '../src/ingest/webhook-schema.js';
import { toLabels } from '../src/classify/labels.js';
import { applyNotification, type DecisionContext } from '../src/incidents/incident-machine.js';
import type { GroupNotification, IncomingAlert } from '../src/incidents/model.js';
import { StoreUnavailableError, type IncidentStore, type NotificationDecider } from '../src/store/store.js';

/** Minimal view of a tap test that the helpers need. */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

export const WEBHOOK_TOKEN = 'test-webhook-token';
export const API_TOKEN = 'test-api-token';
export const T0 = Date.parse('2026-11-23T22:08:00Z');

export const shippedConfig: TriageConfig = loadConfigFile(new URL('../config/triage.yml', import.meta.url).pathname);

/** A real Alertmanager 0.25 capture from test/fixtures (headers and body). */
export function fixture(name: string): { headers: Record<string, string>; body: WebhookPayload } {
  return JSON.parse(readFileSync(new URL(`fixtures/alertmanager-0.25/${name}.json`, import.meta.url), 'utf8'));
}

/** A temporary directory removed when the test ends. */
export function tempDir(t: Teardown): string {
  const dir = mkdtempSync(join(tmpdir(), 'alert-triage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestApp {
  app: FastifyInstance;
  clock: ManualClock;
  store: IncidentStore;
  dbPath: string;
}

/** Builds the app on a SQLite file in a temp dir (or `dbPath`), with a manual clock at T0. */
export async function makeApp(
  t: Teardown,
  opts: {
    dbPath?: string;
    clock?: Clock;
    config?: Partial<AppConfig>;
    store?: IncidentStore;
    channels?: AppDeps['channels'];
    logger?: AppDeps['logger'];
  } = {},
): Promise<TestApp> {
  const dbPath = opts.dbPath ?? join(tempDir(t), 'triage.db');
  // Tests that pass the system clock never call advance().
  const clock = (opts.clock ?? new ManualClock(T0)) as ManualClock;
  const store = opts.store ?? new SqliteStore({ path: dbPath });
  const app = buildApp(
    // The outbox loop is driven by the tests that page (dispatcher.tick() under the manual clock).
    { triage: shippedConfig, webhookToken: WEBHOOK_TOKEN, apiToken: API_TOKEN, dispatch: { autoStart: false }, ...opts.config },
    { store, clock, ...(opts.channels ? { channels: opts.channels } : {}), ...(opts.logger ? { logger: opts.logger } : {}) },
  );
  t.teardown(() => app.close());
  await app.ready();
  return { app, clock, store, dbPath };
}

let seq = 0;

/** One alert for a payload; `name` becomes alertname and, unless given, the fingerprint. */
export function alert(
  name: string,
  extra: {
    status?: 'firing' | 'resolved';
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    startsAt?: string;
    endsAt?: string;
    fingerprint?: string;
  } = {},
): WebhookPayload['alerts'][number] {
  const status = extra.status ?? 'firing';
  return {
    status,
    labels: { alertname: name, ...extra.labels },
    annotations: extra.annotations ?? { summary: `${name} summary` },
    startsAt: extra.startsAt ?? '2026-11-23T22:07:46Z',
    endsAt: extra.endsAt ?? (status === 'resolved' ? '2026-11-23T22:30:00Z' : '0001-01-01T00:00:00Z'),
    generatorURL: 'http://prometheus:9090/graph',
    fingerprint: extra.fingerprint ?? `fp-${name}-${JSON.stringify(extra.labels ?? {})}`,
  };
}

/** A version 4 payload for one group. */
export function payload(groupKey: string, alerts: WebhookPayload['alerts'], extra: Partial<WebhookPayload> = {}): WebhookPayload {
  return {
    receiver: 'triage',
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    groupLabels: { alertname: alerts[0]?.labels?.['alertname'] ?? 'x' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey,
    truncatedAlerts: 0,
    ...extra,
  };
}

export function uniqueGroup(): string {
  return `{}:{alertname="g${++seq}"}`;
}

/** POSTs a webhook with the right token. */
export function postWebhook(app: FastifyInstance, body: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/webhook/alertmanager',
    headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, ...headers },
    payload: body as object,
  });
}

/** Calls the API with the right token. */
export async function api(app: FastifyInstance, method: 'GET' | 'POST' | 'DELETE', url: string, body?: object) {
  const res = await app.inject({ method, url, headers: { authorization: `Bearer ${API_TOKEN}` }, ...(body ? { payload: body } : {}) });
  return { status: res.statusCode, body: res.json() };
}

/** Reads one metric sample from the app's /metrics text, or undefined if absent. */
export async function metric(app: FastifyInstance, series: string): Promise<number | undefined> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  for (const line of res.body.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/** A TCP port that was free a moment ago, for processes the tests start. */
/**
 * A port on loopback that nothing listens on, for a server a test starts later. Chosen below the
 * kernel's ephemeral range: a port from that range (what listen(0) gives) can be taken meanwhile by
 * any outgoing connection of any process (Alertmanager's, PostgreSQL clients'), and the test's
 * listen then fails with EADDRINUSE, seen in a full run. Random, so parallel test files rarely meet.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  for (let tries = 0; tries < 50; tries++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if (await canListen(port)) return port;
  }
  return listenZero();
}

function ephemeralRange(): [number, number] {
  try {
    const [a, b] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (a && b && a > 11_000) return [a, b];
  } catch {
    // Not Linux: the IANA range.
  }
  return [49_152, 65_535];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function listenZero(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** One alert as the domain receives it, firing since a minute before T0 unless told otherwise. */
export function incomingAlert(fp: string, name: string, status: 'firing' | 'resolved' = 'firing', startsAt = T0 - 60_000): IncomingAlert {
  return {
    fingerprint: fp,
    status,
    labels: toLabels({ alertname: name, instance: `${fp}:9100` }),
    annotations: toLabels({ summary: `${name} on ${fp}` }),
    startsAt,
    endsAt: status === 'resolved' ? T0 : null,
    generatorUrl: 'http://prometheus/graph',
  };
}

/** One group notification as the domain receives it. */
export function groupNotification(alerts: IncomingAlert[], extra: Partial<GroupNotification> = {}): GroupNotification {
  return {
    receiver: 'triage',
    groupKey: '{}:{alertname="X"}',
    status: 'firing',
    groupLabels: toLabels({ alertname: 'X' }),
    commonLabels: toLabels({}),
    commonAnnotations: toLabels({}),
    externalUrl: 'http://am',
    truncatedAlerts: 0,
    alerts,
    ...extra,
  };
}

/** The context the state machine decides in, with the shipped classification and SLA. */
export function decisionContext(now = T0): DecisionContext {
  return { now, classify: shippedConfig.classify, sla: shippedConfig.sla };
}

/** A store decider that runs the real state machine at `now`. */
export function decider(now = T0): NotificationDecider {
  return (active, previous, n) => applyNotification(active, previous, n, decisionContext(now));
}

/** Two teams on top of the shipped config: payments (weekly, Paris; alice then bob) and platform (daily, New York; carol then dan). */
export const TEAMS_YAML = `
teams:
  - id: payments
    name: Payments
    match: ['team="payments"']
    oncall: { timeZone: Europe/Paris, handoff: "09:00", rotation: 1w, start: 2026-01-05, members: [alice, bob] }
    routing:
      critical: { channels: ["#payments"] }
      high: { channels: ["#payments"], notify: [oncall], email: true }
  - id: platform
    name: Platform
    match: ['team=~"platform|infra"']
    oncall: { timeZone: America/New_York, handoff: "08:00", rotation: 1d, start: 2026-11-01, members: [carol, dan] }
    escalation:
      high: { steps: [{ after: 10m, notify: [cto] }], repeat: 30m, maxReminders: 2 }
`;

/** The shipped config file's text without the top-level keys `without`, with `extra` appended. */
export function shippedConfigText(extra = '', without: string[] = []): string {
  let text = readFileSync(new URL('../config/triage.yml', import.meta.url), 'utf8');
  // A top-level key's block (`without`) is taken out, so that `extra` can give the key anew.
  for (const key of without) text = text.replace(new RegExp(`^${key}:\\n(?:(?:[ #].*)?\\n)*`, 'm'), '');
  return text + extra;
}

/** `store`, whose `method` fails once (503-style: the database went away) the first time `when` says so. */
export function failingOnce(
  store: IncidentStore,
  method: keyof IncidentStore,
  when: (args: unknown[]) => boolean = () => true,
): IncidentStore {
  let failed = false;
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (name !== method) return value.bind(target);
      return (...args: unknown[]) => {
        if (!failed && when(args)) {
          failed = true;
          return Promise.reject(new StoreUnavailableError('the database went away for a moment'));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** A logger that keeps every line (trace and up, unless `options` say otherwise) as text, for tests that read the log. */
export function capturedLog<Line = Record<string, unknown>>(
  options: LoggerOptions = { level: 'trace' },
): { logger: NonNullable<AppDeps['logger']>; text: () => string; lines: () => Line[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = pino(options, sink) as unknown as NonNullable<AppDeps['logger']>;
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Line),
  };
}
