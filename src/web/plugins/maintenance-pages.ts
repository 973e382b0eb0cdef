import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { AlertmanagerRefused, AlertmanagerUnavailable } from '../../alertmanager/silences-client.js';
import { instantOf, isTimeZone, wallTime } from '../../paging/zoned-time.js';
import { MaintenanceRequestError, type MaintenancePreview } from '../../service/maintenance-service.js';
import { pageContext, sendHtml } from '../page-reply.js';
import { maySilence } from '../permissions.js';
import { errorPage } from '../views/error-page.js';
import { maintenancePage, type WindowForm } from '../views/maintenance-page.js';
import type { WebRoutesOptions } from '../web-options.js';

const Csrf = Type.Optional(Type.String({ maxLength: 500 }));
// Lenient on purpose: what is wrong in the form is said above it, with what was typed kept.
const WindowBody = Type.Object(
  {
    _csrf: Csrf,
    title: Type.String({ maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    starts: Type.String({ maxLength: 40 }),
    ends: Type.String({ maxLength: 40 }),
    zone: Type.String({ maxLength: 100 }),
    matchers: Type.String({ maxLength: 20_000 }),
    public: Type.Optional(Type.Literal('on')),
    publicText: Type.Optional(Type.String({ maxLength: 1000 })),
    intent: Type.Union([Type.Literal('preview'), Type.Literal('create')]),
  },
  { additionalProperties: false },
);
const CancelBody = Type.Object({ _csrf: Csrf }, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const PageQuery = Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })) }, { additionalProperties: false });

const DONE: Record<string, string> = {
  created: 'Planned: the silences are in Alertmanager.',
  cancelled: 'Cancelled: its silences are expired in Alertmanager.',
};
const HOUR = 3_600_000;
const ZONES: readonly string[] = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];

/** "2026-12-07T10:00" (what a datetime-local field sends) in `zone`, as an instant; undefined when it is not one. */
export function parseLocalTime(text: string, zone: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d{1,3})?)?$/.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return undefined;
  const ms = instantOf({ year, month, day, hour, minute }, zone);
  return Number.isFinite(ms) ? ms : undefined;
}

/** An instant as a datetime-local field's value in `zone`. */
export function localTimeValue(ms: number, zone: string): string {
  const w = wallTime(ms, zone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${w.year}-${two(w.month)}-${two(w.day)}T${two(w.hour)}:${two(w.minute)}`;
}

/**
 * /maintenance: the current and upcoming maintenance windows (viewers and up), and for responders
 * the form that plans one (with a preview of what its matchers match now) and the buttons that
 * cancel or end one. Each as the person signed in; the CSRF check is the security plugin's.
 */
const maintenancePages: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, opts) => {
  const { maintenance, clock } = opts;
  if (!maintenance) return;
  const zoneOf = () => opts.oncall.rotation('')?.rotation.timeZone ?? 'UTC';
  const blankForm = (): WindowForm => {
    const zone = zoneOf();
    const start = Math.ceil((clock.now() + 1) / HOUR) * HOUR;
    return {
      title: '',
      description: '',
      starts: localTimeValue(start, zone),
      ends: localTimeValue(start + 2 * HOUR, zone),
      zone,
      matchers: '',
      public: false,
      publicText: '',
    };
  };
  const fail = (req: FastifyRequest, reply: FastifyReply, code: number, message: string) =>
    sendHtml(reply, errorPage(pageContext(req, reply, opts), code, message), code);

  async function render(
    req: FastifyRequest,
    reply: FastifyReply,
    extra: { form?: WindowForm; preview?: MaintenancePreview; error?: string; notice?: string | undefined },
    code = 200,
  ) {
    const { windows, alertmanagerError } = await maintenance!.list();
    return sendHtml(
      reply,
      maintenancePage(pageContext(req, reply, opts), {
        windows,
        alertmanagerError,
        mayChange: maySilence(req),
        form: extra.form ?? blankForm(),
        zones: ZONES,
        timeZone: zoneOf(),
        preview: extra.preview,
        error: extra.error,
        notice: extra.notice,
      }),
      code,
    );
  }

  app.get('/maintenance', { schema: { querystring: PageQuery } }, async (req, reply) =>
    render(req, reply, { notice: req.query.done ? DONE[req.query.done] : undefined }),
  );

  app.post('/maintenance', { schema: { body: WindowBody } }, async (req, reply) => {
    if (!maySilence(req)) return fail(req, reply, 403, 'This needs the responder role: viewers may not plan maintenance windows.');
    const b = req.body;
    const form: WindowForm = {
      title: b.title,
      description: b.description ?? '',
      starts: b.starts,
      ends: b.ends,
      zone: b.zone,
      matchers: b.matchers,
      public: b.public === 'on',
      publicText: b.publicText ?? '',
    };
    const refuse = (code: number, error: string) => render(req, reply, { form, error }, code);
    try {
      if (b.intent === 'preview') return await render(req, reply, { form, preview: await maintenance.preview(b.matchers) });
      if (!isTimeZone(b.zone)) return await refuse(400, `"${b.zone}" is not a time zone.`);
      const startsAt = parseLocalTime(b.starts, b.zone);
      const endsAt = parseLocalTime(b.ends, b.zone);
      if (startsAt === undefined) return await refuse(400, 'The start is not a date and time.');
      if (endsAt === undefined) return await refuse(400, 'The end is not a date and time.');
      const person = req.person!;
      const w = await maintenance.create(
        { name: person.name },
        {
          title: form.title,
          description: form.description,
          startsAt,
          endsAt,
          matchers: form.matchers,
          public: form.public,
          publicText: form.publicText,
        },
      );
      req.log.info(
        { audit: 'maintenance-planned', person: person.key, window: w.id, silences: w.silenceIds },
        'maintenance window planned',
      );
      return await reply.redirect('/maintenance?done=created', 303);
    } catch (err) {
      if (err instanceof MaintenanceRequestError) return refuse(400, err.message);
      if (err instanceof AlertmanagerRefused) return refuse(502, `Alertmanager refused, nothing was planned: ${err.message}`);
      if (err instanceof AlertmanagerUnavailable) return refuse(503, `Alertmanager did not answer, nothing was planned: ${err.message}`);
      throw err;
    }
  });

  app.post('/maintenance/:id/cancel', { schema: { params: IdParams, body: CancelBody } }, async (req, reply) => {
    if (!maySilence(req)) return fail(req, reply, 403, 'This needs the responder role: viewers may not cancel maintenance windows.');
    try {
      const w = await maintenance.cancel(req.params.id, { name: req.person!.name });
      if (!w) return await fail(req, reply, 404, `There is no maintenance window ${req.params.id}.`);
      req.log.info({ audit: 'maintenance-cancelled', person: req.person!.key, window: w.id }, 'maintenance window cancelled');
      return await reply.redirect('/maintenance?done=cancelled', 303);
    } catch (err) {
      if (err instanceof MaintenanceRequestError) return fail(req, reply, 400, err.message);
      if (err instanceof AlertmanagerRefused) return fail(req, reply, 502, `Alertmanager refused: ${err.message}`);
      if (err instanceof AlertmanagerUnavailable)
        return fail(req, reply, 503, `Alertmanager did not answer, the window is unchanged: ${err.message}`);
      throw err;
    }
  });
};

export default maintenancePages;
