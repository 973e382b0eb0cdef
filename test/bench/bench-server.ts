// One server for the benchmark, in its own process so the load generator does not share its
// event loop. `bare`: a Fastify route with the same schema, auth and validator that does nothing.
// `service`: the real app on a SQLite file, durable (WAL synced before each answer), with Slack
// and SMTP configured (BENCH_SLACK_URL, BENCH_SMTP_URL) so the outbox dispatcher runs as in production.
// `floor`: the bare route plus what storing costs, for analysis: the body normalised and written by
// the same store, durably, as the same rows the service writes for a new group (the incident, its
// alerts, one timeline entry, one page), decided by a fixed function instead of the classifier and
// paging policy, and no dispatcher. What the service cannot beat while it stores what it stores.
// BENCH_SQLITE_MEMORY=1 puts that database in memory (not durable: for analysis only).
// With BENCH_DATABASE_URL=postgres://… the service runs on PostgreSQL instead (one replica per
// process: start two on one database for two replicas). BENCH_STATUS_PORT=1: the status page's own
// listener too (STATUS_PORT, on a port the system chooses: printed as statusPort); BENCH_STATUS_RATE:
// server.statusAnswersPerSecond on the service's port. BENCH_ANNOUNCE=<alertname>: the bare route
// prints {"seen":…} when a group of that alertname arrives (the storm benchmark times it).
import { DEFAULT_BACKLOG } from '../../src/config/load-config.js';
import Fastify from 'fastify';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import { validatorCompiler } from '../../src/http/validator-compiler.js';
import { requireToken } from '../../src/http/require-token.js';
import { WebhookSchema, type WebhookPayload } from '../../src/ingest/webhook-schema.js';
import { normalize } from '../../src/ingest/normalize.js';
import { floorChange } from './floor-change.js';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const [mode, dir] = process.argv.slice(2);
const TOKEN = process.env['BENCH_TOKEN'] ?? 'bench-token';
const announce = process.env['BENCH_ANNOUNCE'];
const shipped = loadConfigFile(new URL('../../config/triage.yml', import.meta.url).pathname);
const statusRate = Number(process.env['BENCH_STATUS_RATE'] ?? shipped.server.statusAnswersPerSecond);
const triage = { ...shipped, server: { ...shipped.server, statusAnswersPerSecond: statusRate } };

const postgresUrl = process.env['BENCH_DATABASE_URL'];
// BENCH_COUNT_STATEMENTS=1: count PostgreSQL statements by their first words and the webhooks
// answered, printed to stderr at SIGTERM (which statements a webhook costs).
const statements = new Map<string, number>();
let webhooks = 0;
if (process.env['BENCH_COUNT_STATEMENTS']) {
  const proto = pg.Client.prototype as unknown as { query: (this: pg.Client, ...args: unknown[]) => unknown };
  const query = proto.query;
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    const text = (typeof q === 'string' ? q : (q.text ?? '')).replace(/\s+/g, ' ').slice(0, 70);
    statements.set(text, (statements.get(text) ?? 0) + 1);
    return query.apply(this, args);
  };
}
const store =
  mode === 'bare'
    ? undefined
    : postgresUrl
      ? await PostgresStore.open({ url: postgresUrl })
      : new SqliteStore({
          // BENCH_SQLITE_MEMORY=1: an in-memory database, no file and no sync, to see what the disk costs.
          path: process.env['BENCH_SQLITE_MEMORY'] ? ':memory:' : join(dir!, 'bench.db'),
          durability: (process.env['BENCH_DURABILITY'] as 'inline' | 'offloaded' | 'none' | undefined) ?? 'offloaded',
        });

const app =
  mode === 'bare' || mode === 'floor' || !store
    ? Fastify({ bodyLimit: triage.server.bodyLimit, onProtoPoisoning: 'remove', onConstructorPoisoning: 'remove' })
    : buildApp(
        {
          triage,
          webhookToken: TOKEN,
          ...(process.env['BENCH_STATUS_PORT'] ? { statusListener: { port: 0, host: '127.0.0.1' } } : {}),
          // BENCH_NO_DISPATCH=1: the outbox loop does not run, to see what delivery costs the webhook path.
          ...(process.env['BENCH_NO_DISPATCH'] ? { dispatch: { autoStart: false } } : {}),
          channels: {
            slackBotToken: 'xoxb-bench',
            slackApiUrl: process.env['BENCH_SLACK_URL'],
            smtpUrl: process.env['BENCH_SMTP_URL'],
            emailFrom: 'bench@example.com',
          },
        },
        { store },
      );

if (mode === 'bare' || mode === 'floor') {
  app.setValidatorCompiler(validatorCompiler);
  app.post('/webhook/alertmanager', { schema: { body: WebhookSchema }, onRequest: requireToken(TOKEN, 'webhook', true) }, async (req) => {
    if (announce && (req.body as WebhookPayload).commonLabels?.['alertname'] === announce)
      process.stdout.write(`${JSON.stringify({ seen: announce })}\n`);
    if (mode === 'bare' || !store) return { status: 'ok' };
    const { change, incident } = await store.applyNotification(
      normalize(req.body as WebhookPayload, { at: Date.now() }),
      (active, _last, n) => (active ? null : floorChange(n)),
    );
    return { status: 'ok', changed: change !== null, incident: incident ? { id: incident.id } : null };
  });
}

if (process.env['BENCH_COUNT_STATEMENTS'])
  app.addHook('onResponse', async (req) => {
    if (req.url === '/webhook/alertmanager') webhooks++;
  });
// The service's listen backlog (src/config/load-config.ts, DEFAULT_BACKLOG), so that both queue connections alike.
await app.listen({ port: 0, host: '127.0.0.1', backlog: DEFAULT_BACKLOG });
const address = app.server.address() as { port: number };
const statusPort = mode === 'service' ? app.triage.statusListener?.port : undefined;
process.stdout.write(`${JSON.stringify({ port: address.port, ...(statusPort ? { statusPort } : {}) })}\n`);
process.on('SIGTERM', () => {
  if (statements.size) {
    const rows = [...statements].sort((a, b) => b[1] - a[1]);
    const all = rows.reduce((n, [, c]) => n + c, 0);
    process.stderr.write(
      `${webhooks} webhooks, ${(all / webhooks).toFixed(2)} statements each:\n` +
        rows.map(([text, c]) => `  ${(c / webhooks).toFixed(3)}  ${text}`).join('\n') +
        '\n',
    );
  }
  void app.close().then(() => process.exit(0));
});
