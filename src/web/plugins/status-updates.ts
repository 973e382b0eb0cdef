import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireRole } from '../../http/acting-person.js';
import { StatusInputError } from '../../service/status-service.js';
import { pageContext, sendHtml } from '../page-reply.js';
import { PUBLIC_UPDATES_SHOWN, previewIncident, publicUpdateView } from '../public-updates.js';
import { IdParams } from '../schemas.js';
import { errorPage } from '../views/error-page.js';
import { layout } from '../views/layout.js';
import { previewBody } from '../views/public-update-form.js';
import type { WebRoutesOptions } from '../web-options.js';

/** A public update as the form sends it: the components as `c.<id>` fields, one each. */
const UpdateBody = Type.Object(
  {
    state: Type.String({ maxLength: 40 }),
    title: Type.String({ maxLength: 200 }),
    message: Type.String({ maxLength: 5000 }),
    notify: Type.Optional(Type.Literal('on')),
    action: Type.Union([Type.Literal('preview'), Type.Literal('post')]),
    _csrf: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: Type.String({ maxLength: 40 }) },
);

/**
 * POST /incidents/:id/status-updates: "Preview" shows the public incident exactly as /status will
 * (the same view function), with the form again; "Post to the status page" posts it, ticks the
 * checklist's "Status page updated" and e-mails the subscribers, then back to the incident.
 */
const statusUpdates: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, opts) => {
  const { status, store } = opts;
  if (!status) return;
  app.addHook('preHandler', requireRole('responder'));

  app.post('/incidents/:id/status-updates', { schema: { params: IdParams, body: UpdateBody } }, async (req, reply) => {
    const id = req.params.id;
    const ctx = pageContext(req, reply, opts);
    const incident = await store.incidentHead(id, { offset: 0, limit: 100 });
    if (!incident) return sendHtml(reply, errorPage(ctx, 404, `There is no incident ${id}.`), 404);
    const body = req.body as Record<string, string>;
    const components = Object.fromEntries(
      Object.entries(body)
        .filter(([k]) => k.startsWith('c.'))
        .map(([k, v]) => [k.slice(2), v]),
    );
    const unknown = Object.keys(body).find(
      (k) => !k.startsWith('c.') && !['state', 'title', 'message', 'notify', 'action', '_csrf'].includes(k),
    );
    if (unknown !== undefined) return sendHtml(reply, errorPage(ctx, 400, `The form has a field "${unknown}" it should not have.`), 400);
    let update;
    try {
      update = status.validate({ state: req.body.state, title: req.body.title, message: req.body.message, components });
    } catch (err) {
      if (err instanceof StatusInputError) return sendHtml(reply, errorPage(ctx, 400, err.message), 400);
      throw err;
    }
    if (req.body.action === 'post') {
      const who = { name: req.viewer!.name, contact: req.viewer!.contact, via: 'web' as const };
      const result = await status.post(incident, who, update, req.body.notify === 'on');
      if (!result.found) return sendHtml(reply, errorPage(ctx, 404, `There is no incident ${id}.`), 404);
      req.log.info({ audit: 'status-update', person: req.person?.key, incident: id, state: update.state }, 'public update posted');
      return reply.redirect(`/incidents/${id}#status-page`, 303);
    }
    const posted = (await store.timelinePage(id, { limit: PUBLIC_UPDATES_SHOWN, kinds: ['status_update'] })).entries
      .flatMap((e) => (e.kind === 'status_update' ? [e] : []))
      .reverse();
    const view = publicUpdateView(status, req, incident, posted, update);
    const preview = previewIncident(id, posted, update, opts.clock.now());
    return sendHtml(
      reply,
      layout(`Preview: ${update.title}`, ctx, previewBody(id, ctx.csrf, view, preview), undefined, ['/status/status.css']),
    );
  });
};

export default statusUpdates;
