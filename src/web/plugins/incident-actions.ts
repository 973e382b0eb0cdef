import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { checklistFor } from '../../incidents/checklist.js';
import { requireRole } from '../../http/acting-person.js';
import type { ActionResult } from '../../service/incident-service.js';
import { pageContext, sendHtml } from '../page-reply.js';
import { ButtonBody, IdParams, NoteBody, ReviewBody, StepBody } from '../schemas.js';
import { errorPage } from '../views/error-page.js';
import type { WebRoutesOptions } from '../web-options.js';

/** The incident page's forms: acknowledge, resolve, a note, a checklist step, the review; each as the signed-in viewer. */
const incidentActions: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, opts) => {
  const { service, store } = opts;
  // Every form here changes an incident: a responder's.
  app.addHook('preHandler', requireRole('responder'));
  const ctx = (req: FastifyRequest, reply: FastifyReply) => pageContext(req, reply, opts);
  const notFound = (req: FastifyRequest, reply: FastifyReply, id: number) =>
    sendHtml(reply, errorPage(ctx(req, reply), 404, `There is no incident ${id}.`), 404);

  const responder = (req: FastifyRequest) => {
    // The session plugin let no request without a viewer this far.
    const v = req.viewer!;
    return { name: v.name, contact: v.contact, via: 'web' as const };
  };
  const done = (req: FastifyRequest, reply: FastifyReply, id: number, result: ActionResult, anchor = '') => {
    if (!result.found) return notFound(req, reply, id);
    // Post/redirect/get: a reload does not send the form again.
    return reply.redirect(`/incidents/${id}${anchor}`, 303);
  };

  app.post('/incidents/:id/ack', { schema: { params: IdParams, body: ButtonBody } }, async (req, reply) =>
    done(req, reply, req.params.id, await service.acknowledge(req.params.id, responder(req))),
  );
  app.post('/incidents/:id/resolve', { schema: { params: IdParams, body: ButtonBody } }, async (req, reply) =>
    done(req, reply, req.params.id, await service.resolve(req.params.id, responder(req))),
  );

  app.post('/incidents/:id/notes', { schema: { params: IdParams, body: NoteBody } }, async (req, reply) => {
    const text = req.body.text.trim();
    if (!text) return sendHtml(reply, errorPage(ctx(req, reply), 400, 'The note is empty.'), 400);
    return done(req, reply, req.params.id, await service.note(req.params.id, responder(req), text), '#notes');
  });

  app.post('/incidents/:id/checklist', { schema: { params: IdParams, body: StepBody } }, async (req, reply) => {
    // The incident's row alone: a tick costs the same at the 10th and the 10,000th.
    const incident = await store.incident(req.params.id);
    if (!incident) return notFound(req, reply, req.params.id);
    const steps = checklistFor(opts.settings().checklists, incident).flatMap((s) => s.steps);
    if (!steps.includes(req.body.step))
      return sendHtml(reply, errorPage(ctx(req, reply), 400, `"${req.body.step}" is not a step of this incident's checklist.`), 400);
    const note = req.body.note?.trim() || undefined;
    if (req.body.problem && !note) return sendHtml(reply, errorPage(ctx(req, reply), 400, 'Say what the problem is.'), 400);
    const state = req.body.problem ? 'problem' : req.body.done ? 'done' : 'undone';
    return done(req, reply, req.params.id, await service.markStep(req.params.id, responder(req), req.body.step, state, note), '#checklist');
  });

  app.post('/incidents/:id/review', { schema: { params: IdParams, body: ReviewBody } }, async (req, reply) => {
    // Browsers send CRLF line ends from a textarea; stored as LF.
    const clean = (s: string | undefined) => (s ?? '').replace(/\r\n/g, '\n').trim();
    const review = { rootCause: clean(req.body.rootCause), impact: clean(req.body.impact), prevention: clean(req.body.prevention) };
    return done(req, reply, req.params.id, await service.saveReview(req.params.id, responder(req), review), '#review');
  });
};

export default incidentActions;
