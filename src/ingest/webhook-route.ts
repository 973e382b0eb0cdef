import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { IncidentService } from '../service/incident-service.js';
import type { HeartbeatService } from '../service/heartbeat-service.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock } from '../clock.js';
import { PayloadError } from '../http/payload-error.js';
import { requireToken } from '../http/require-token.js';
import { normalize } from './normalize.js';
import { WebhookSchema } from './webhook-schema.js';

/** What the webhook route needs. */
export interface WebhookRouteOptions {
  service: IncidentService;
  heartbeats: HeartbeatService;
  metrics: Metrics;
  clock: Clock;
  token: string | undefined;
  bodyLimit: number;
}

/** POST /webhook/alertmanager: answers 200 only once the notification's changes are committed. */
export const webhookRoute: FastifyPluginAsyncTypebox<WebhookRouteOptions> = async (app, opts) => {
  const { service, heartbeats, metrics, clock } = opts;
  app.post(
    '/webhook/alertmanager',
    {
      bodyLimit: opts.bodyLimit,
      schema: { body: WebhookSchema },
      onRequest: requireToken(opts.token, 'webhook', true),
      // The two refusals a sender most needs to understand, said in words before the schema's terse ones.
      preValidation: async (req) => shapeCheck(req.body, req.headers['user-agent']),
      onResponse: async (req, reply) => {
        metrics.webhookRequests.inc({ code: String(reply.statusCode) });
        metrics.webhookDuration.observe(reply.elapsedTime / 1000);
      },
    },
    async (req) => {
      const notification = normalize(req.body, { at: clock.now(), userAgent: req.headers['user-agent'] });
      const firing = notification.alerts.filter((a) => a.status === 'firing').length;
      if (firing > 0) metrics.alertsReceived.inc({ status: 'firing' }, firing);
      if (notification.alerts.length > firing) metrics.alertsReceived.inc({ status: 'resolved' }, notification.alerts.length - firing);
      if (notification.truncatedAlerts > 0) metrics.alertsTruncated.inc(notification.truncatedAlerts);
      // A Watchdog is a beat of the pipeline's dead man's switch, never an incident of its own.
      const { rest, beats } = await heartbeats.takeWatchdogs(notification);
      const heartbeat = beats.length ? { heartbeats: beats.map((b) => b.source) } : {};
      if (beats.length && rest.alerts.length === 0) return { status: 'ok', changed: false, incident: null, ...heartbeat };
      const { change, incident } = await service.ingest(rest);
      return {
        status: 'ok',
        changed: change !== null,
        // A re-delivery changes nothing but still names its incident.
        incident: incident ? { id: incident.id, status: incident.status, severity: incident.severity } : null,
        ...heartbeat,
      };
    },
  );
};

const TAKEN =
  'alert-triage takes Alertmanager\'s and Grafana Alerting\'s webhook bodies: a JSON object with an "alerts" array, each alert with its "labels"';

/** A 400 in words for a body with no alerts array (an Alertmanager `payload:` template's, say) or an alert without labels. */
function shapeCheck(body: unknown, userAgent: string | undefined): void {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new PayloadError(`The body is not a JSON object. ${TAKEN}.`);
  const alerts = (body as { alerts?: unknown }).alerts;
  if (!Array.isArray(alerts)) {
    const fromAlertmanager = (userAgent ?? '').toLowerCase().startsWith('alertmanager');
    throw new PayloadError(
      `The body has no "alerts" array, so there is nothing to take. ${TAKEN}. ` +
        (fromAlertmanager
          ? `This one came from Alertmanager (${userAgent?.slice(0, 40)}) with a body of its own making: remove "payload:" from the webhook_config so that Alertmanager sends its default payload.`
          : `If Alertmanager sent it from a webhook_config with a custom "payload:" (Alertmanager 0.34 and later), remove "payload:" and use the default payload.`),
    );
  }
  alerts.forEach((a: unknown, i) => {
    const labels = a && typeof a === 'object' ? (a as { labels?: unknown }).labels : undefined;
    if (!labels || typeof labels !== 'object' || Array.isArray(labels) || Object.keys(labels).length === 0)
      throw new PayloadError(
        `Alert ${i} (alerts[${i}]) has no labels: every alert needs at least one label (its alertname) to be told apart. ${TAKEN}.`,
      );
  });
}
