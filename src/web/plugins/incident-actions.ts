import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { checklistFor } from '../../incidents/checklist.js';
import { requireRole, responderOf } from '../../http/acting-person.js';
import type { ActionResult } from '../../service/incident-service.js';
import { pageContext, sendHtml } from '../page-reply.js';
import { ButtonBody, ChecklistBody, IdParams, NoteBody, ReviewBody, StepBody } from '../schemas.js';
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

  // The session plugin let no request without a person this far.
  const responder = (req: FastifyRequest) => responderOf(req.person!, 'web');
  const answer = (req: FastifyRequest, reply: FastifyReply, id: number, result: ActionResult, anchor = '') => {
    if (!result.found) return notFound(req, reply, id);
    // Post/redirect/get: a reload does not send the form again.
    return reply.redirect(`/incidents/${id}${anchor}`, 303);
  };

  app.post('/incidents/:id/ack', { schema: { params: IdParams, body: ButtonBody } }, async (req, reply) =>
    answer(req, reply, req.params.id, await service.acknowledge(req.params.id, responder(req))),
  );
  app.post('/incidents/:id/resolve', { schema: { params: IdParams, body: ButtonBody } }, async (req, reply) =>
    answer(req, reply, req.params.id, await service.resolve(req.params.id, responder(req))),
  );

  app.post('/incidents/:id/notes', { schema: { params: IdParams, body: NoteBody } }, async (req, reply) => {
    const text = req.body.text.trim();
    if (!text) return sendHtml(reply, errorPage(ctx(req, reply), 400, 'The note is empty.'), 400);
    return answer(req, reply, req.params.id, await service.note(req.params.id, responder(req), text), '#notes');
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
    return answer(
      req,
      reply,
      req.params.id,
      await service.markStep(req.params.id, responder(req), req.body.step, state, note),
      '#checklist',
    );
  });

  // The one "Save checklist" button: only what the viewer changed on the page is recorded, so a tick
  // someone else made after the page was rendered is never undone by it.
  app.post('/incidents/:id/checklist/save', { schema: { params: IdParams, body: ChecklistBody } }, async (req, reply) => {
    // The incident's row alone, as for one tick.
    const incident = await store.incident(req.params.id);
    if (!incident) return notFound(req, reply, req.params.id);
    const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
    const steps = new Set(checklistFor(opts.settings().checklists, incident).flatMap((s) => s.steps));
    const shown = list(req.body.shown);
    const done = new Set(list(req.body.done));
    const was = new Set(list(req.body.was));
    const unknown = [...shown, ...done, ...was].find((step) => !steps.has(step) || !shown.includes(step));
    if (unknown !== undefined)
      return sendHtml(reply, errorPage(ctx(req, reply), 400, `"${unknown}" is not a step of this incident's checklist.`), 400);
    let result: ActionResult = { found: true, incident, changed: false };
    for (const step of shown) {
      if (done.has(step) === was.has(step)) continue;
      result = await service.markStep(req.params.id, responder(req), step, done.has(step) ? 'done' : 'undone');
      if (!result.found) break;
    }
    return answer(req, reply, req.params.id, result, '#checklist');
  });

  app.post('/incidents/:id/review', { schema: { params: IdParams, body: ReviewBody } }, async (req, reply) => {
    // Browsers send CRLF line ends from a textarea; stored as LF.
    const clean = (s: string | undefined) => (s ?? '').replace(/\r\n/g, '\n').trim();
    const review = { rootCause: clean(req.body.rootCause), impact: clean(req.body.impact), prevention: clean(req.body.prevention) };
    return answer(req, reply, req.params.id, await service.saveReview(req.params.id, responder(req), review), '#review');
  });
};

export default incidentActions;
