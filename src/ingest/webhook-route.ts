import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { IncidentService } from '../service/incident-service.js';
import type { Metrics } from '../metrics/metrics.js';
import { requireToken } from '../http/require-token.js';
import { normalize } from './normalize.js';
import { WebhookSchema } from './webhook-schema.js';

/** What the webhook route needs. */
export interface WebhookRouteOptions {
  service: IncidentService;
  metrics: Metrics;
  token: string | undefined;
  bodyLimit: number;
}

/** POST /webhook/alertmanager: answers 200 only once the notification's changes are committed. */
export const webhookRoute: FastifyPluginAsyncTypebox<WebhookRouteOptions> = async (app, opts) => {
  const { service, metrics } = opts;
  app.post(
    '/webhook/alertmanager',
    {
      bodyLimit: opts.bodyLimit,
      schema: { body: WebhookSchema },
      onRequest: requireToken(opts.token, 'webhook', true),
      onResponse: async (req, reply) => {
        metrics.webhookRequests.inc({ code: String(reply.statusCode) });
        metrics.webhookDuration.observe(reply.elapsedTime / 1000);
      },
    },
    async (req) => {
      const notification = normalize(req.body);
      const firing = notification.alerts.filter((a) => a.status === 'firing').length;
      if (firing > 0) metrics.alertsReceived.inc({ status: 'firing' }, firing);
      if (notification.alerts.length > firing) metrics.alertsReceived.inc({ status: 'resolved' }, notification.alerts.length - firing);
      if (notification.truncatedAlerts > 0) metrics.alertsTruncated.inc(notification.truncatedAlerts);
      const { change, incident } = await service.ingest(notification);
      return {
        status: 'ok',
        changed: change !== null,
        // A re-delivery changes nothing but still names its incident.
        incident: incident ? { id: incident.id, status: incident.status, severity: incident.severity } : null,
      };
    },
  );
};
