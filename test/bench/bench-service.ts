import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { TriageConfig } from '../../src/config/load-config.js';
import type { IncidentStore } from '../../src/store/store.js';

/**
 * The service as the in-process benchmarks run it (ingest-bench.ts, floor-ratio-bench.ts): Slack and
 * e-mail configured, so pages are queued as in production, but the dispatcher not running (nothing
 * listens at the addresses), so what is measured is the webhook's own path.
 */
export function benchService(triage: TriageConfig, store: IncidentStore, webhookToken: string): FastifyInstance {
  return buildApp(
    {
      triage,
      webhookToken,
      dispatch: { autoStart: false },
      channels: {
        slackBotToken: 'xoxb-bench',
        slackApiUrl: 'http://127.0.0.1:9/api/',
        smtpUrl: 'smtp://127.0.0.1:9',
        emailFrom: 'bench@example.com',
      },
    },
    { store },
  );
}
