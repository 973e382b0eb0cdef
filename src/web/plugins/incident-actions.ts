import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checklistFor } from '../../incidents/checklist.js';
import type { ActionResult } from '../../service/incident-service.js';
import { pageContext, sendHtml } from '../page-reply.js';
import { csrfField, idParams } from '../schemas.js';
import { errorPage } from '../views/error-page.js';
import type { WebRoutesOptions } from '../web-options.js';

/** The incident page's forms: acknowledge, resolve, a note, a checklist step, the review; each as the signed-in viewer. */
export default async function incidentActions(app: FastifyInstance, opts: WebRoutesOptions) {
  const { service, store } = opts;
  const ctx = (req: FastifyRequest, reply: FastifyReply) => pageContext(req, reply, opts);

  const responder = (req: FastifyRequest) => {
    // The session plugin let no request without a viewer this far.
    const v = req.viewer!;
    return { name: v.name, contact: v.contact, via: 'web' as const };
  };
  const done = (req: FastifyRequest<{ Params: { id: number } }>, reply: FastifyReply, result: ActionResult, anchor = '') => {
    if (!result.found) return sendHtml(reply, errorPage(ctx(req, reply), 404, `There is no incident ${req.params.id}.`), 404);
    // Post/redirect/get: a reload does not send the form again.
    return reply.redirect(`/incidents/${req.params.id}${anchor}`, 303);
  };
  const formOnly = { type: 'object', additionalProperties: false, properties: { ...csrfField } } as const;

  app.post<{ Params: { id: number } }>('/incidents/:id/ack', { schema: { params: idParams, body: formOnly } }, async (req, reply) =>
    done(req, reply, await service.acknowledge(req.params.id, responder(req))),
  );
  app.post<{ Params: { id: number } }>('/incidents/:id/resolve', { schema: { params: idParams, body: formOnly } }, async (req, reply) =>
    done(req, reply, await service.resolve(req.params.id, responder(req))),
  );

  app.post<{ Params: { id: number }; Body: { text: string } }>(
    '/incidents/:id/notes',
    { schema: { params: idParams, body: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', minLength: 1, maxLength: 4000 }, ...csrfField } } } },
    async (req, reply) => {
      const text = req.body.text.trim();
      if (!text) return sendHtml(reply, errorPage(ctx(req, reply), 400, 'The note is empty.'), 400);
      return done(req, reply, await service.note(req.params.id, responder(req), text), '#notes');
    },
  );

  app.post<{ Params: { id: number }; Body: { step: string; done?: string; problem?: string; note?: string } }>(
    '/incidents/:id/checklist',
    {
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['step'],
          additionalProperties: false,
          properties: {
            step: { type: 'string', minLength: 1, maxLength: 300 },
            done: { type: 'string', enum: ['on'] },
            problem: { type: 'string', enum: ['on'] },
            note: { type: 'string', maxLength: 2000 },
            ...csrfField,
          },
        },
      },
    },
    async (req, reply) => {
      const incident = await store.getIncident(req.params.id, { offset: 0, limit: 1 });
      if (!incident) return sendHtml(reply, errorPage(ctx(req, reply), 404, `There is no incident ${req.params.id}.`), 404);
      const steps = checklistFor(opts.settings().checklists, incident).flatMap((s) => s.steps);
      if (!steps.includes(req.body.step)) return sendHtml(reply, errorPage(ctx(req, reply), 400, `"${req.body.step}" is not a step of this incident's checklist.`), 400);
      const note = req.body.note?.trim() || undefined;
      if (req.body.problem && !note) return sendHtml(reply, errorPage(ctx(req, reply), 400, 'Say what the problem is.'), 400);
      const state = req.body.problem ? 'problem' : req.body.done ? 'done' : 'undone';
      return done(req, reply, await service.markStep(req.params.id, responder(req), req.body.step, state, note), '#checklist');
    },
  );

  app.post<{ Params: { id: number }; Body: { rootCause?: string; impact?: string; prevention?: string } }>(
    '/incidents/:id/review',
    {
      schema: {
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            rootCause: { type: 'string', maxLength: 10_000 },
            impact: { type: 'string', maxLength: 10_000 },
            prevention: { type: 'string', maxLength: 10_000 },
            ...csrfField,
          },
        },
      },
    },
    async (req, reply) => {
      // Browsers send CRLF line ends from a textarea; stored as LF.
      const clean = (s: string | undefined) => (s ?? '').replace(/\r\n/g, '\n').trim();
      const review = { rootCause: clean(req.body.rootCause), impact: clean(req.body.impact), prevention: clean(req.body.prevention) };
      return done(req, reply, await service.saveReview(req.params.id, responder(req), review), '#review');
    },
  );
}
