import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Shift } from '../../paging/oncall.js';
import { addDays, instantOf, wallTime } from '../../paging/zoned-time.js';
import { newFeedToken, type Actor, type Outcome, type RotationView } from '../../service/oncall-service.js';
import { pageContext, sendHtml } from '../page-reply.js';
import { assertRole } from '../../http/acting-person.js';
import { errorPage } from '../views/error-page.js';
import { oncallPage, type FeedView, type ShiftView } from '../views/oncall-page.js';
import type { WebRoutesOptions } from '../web-options.js';

const Csrf = Type.Optional(Type.String({ maxLength: 500 }));
/** '' for the top level's rotation, else a team id. */
const RotationField = Type.String({ pattern: '^([a-z0-9][a-z0-9._-]*)?$', maxLength: 100 });
// Form fields are text (bodies are not coerced): epoch ms as digits.
const Ms = Type.String({ pattern: '^[0-9]{1,16}$' });
const ContactId = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', maxLength: 100 });

const ShiftBody = Type.Object(
  { _csrf: Csrf, rotation: RotationField, from: Ms, until: Ms, covers: ContactId, contact: Type.Optional(ContactId) },
  { additionalProperties: false },
);
const TonightBody = Type.Object({ _csrf: Csrf, rotation: RotationField, covers: ContactId }, { additionalProperties: false });
const SwapBody = Type.Object(
  {
    _csrf: Csrf,
    rotation: RotationField,
    asked: ContactId,
    swapFrom: Ms,
    swapUntil: Ms,
    /** The viewer's own shift, "from-until". */
    mine: Type.String({ pattern: '^[0-9]{1,16}-[0-9]{1,16}$' }),
  },
  { additionalProperties: false },
);
const RotationBody = Type.Object({ _csrf: Csrf, rotation: RotationField }, { additionalProperties: false });
const FeedBody = Type.Object(
  { _csrf: Csrf, rotation: RotationField, scope: Type.Union([Type.Literal('contact'), Type.Literal('team')]) },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const AnswerParams = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  answer: Type.Union([Type.Literal('accept'), Type.Literal('decline'), Type.Literal('cancel')]),
});
const PageQuery = Type.Object(
  { weeks: Type.Optional(Type.Integer({ minimum: 1, maximum: 26 })), done: Type.Optional(Type.String({ maxLength: 20 })) },
  { additionalProperties: false },
);

const WEEK = 7 * 86_400_000;
const DONE: Record<string, string> = {
  taken: 'Done: the shift is yours. Paging follows it from now.',
  handed: 'Done: the shift is handed over.',
  asked: 'Asked: it takes effect once they accept.',
  accept: 'Accepted: the overrides are in place.',
  decline: 'Declined.',
  cancel: 'Cancelled.',
  ended: 'The override has ended; the rotation is back.',
  revoked: 'The feed is revoked: its address no longer answers.',
};

/** The person acting as the on-call service sees them: an admin may change anyone's shifts (see mayActFor). */
export function webActor(req: FastifyRequest): Actor {
  const p = req.person!;
  return { name: p.name, contact: p.contact ?? undefined, admin: p.role === 'admin' };
}

/**
 * /oncall (the top level's rotation) and /oncall/:team: who is on call now and until when, the
 * next weeks' shifts, requests, the log and calendar feeds; and their forms (take a shift, tonight,
 * cover, swap, answer a request, end an override, make or revoke a feed), each as the viewer.
 */
const oncallPages: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, opts) => {
  const { oncall, store, clock } = opts;
  // Changing who is on call needs the responder role; reading, and one's own calendar feeds, the viewer role.
  app.addHook('preHandler', async (req) => {
    if (req.method === 'POST' && !req.url.startsWith('/oncall/feeds')) assertRole(req, 'responder');
  });
  // Each change made from these pages is an audit line with who (the API's routes log theirs); the
  // on-call log in the store keeps what changed.
  app.addHook('onResponse', async (req, reply) => {
    if (req.method !== 'POST' || reply.statusCode !== 303) return;
    req.log.info(
      { audit: req.person?.role === 'admin' ? 'admin' : 'oncall', action: req.routeOptions.url, person: req.person?.key, via: 'web' },
      'on-call changed from the pages',
    );
  });
  const hrefOf = (r: RotationView) => (r.id ? `/oncall/${encodeURIComponent(r.id)}` : '/oncall');
  const fail = (req: FastifyRequest, reply: FastifyReply, status: number, message: string) =>
    sendHtml(reply, errorPage(pageContext(req, reply, opts), status, message), status);
  const rotationOr404 = (req: FastifyRequest, reply: FastifyReply, id: string) => {
    const r = oncall.rotations().find((x) => x.id === id);
    if (!r) void fail(req, reply, 404, id ? `Team "${id}" has no on-call rotation of its own.` : 'There is no top-level on-call rotation.');
    return r;
  };
  const after = <T>(req: FastifyRequest, reply: FastifyReply, r: RotationView, outcome: Outcome<T>, done: string) =>
    outcome.ok ? reply.redirect(`${hrefOf(r)}?done=${done}`, 303) : fail(req, reply, outcome.status, outcome.message);

  const shiftView = (s: Shift): ShiftView => {
    const t = s.taken && 'id' in s.taken ? s.taken : undefined;
    return {
      contact: s.contact,
      name: oncall.nameOf(s.contact),
      from: s.from,
      until: s.until,
      override: s.override,
      overrideId: t?.id,
      by: t?.by,
      covers: t?.covers ?? undefined,
      coversName: t?.covers ? oncall.nameOf(t.covers) : undefined,
    };
  };

  async function render(
    req: FastifyRequest,
    reply: FastifyReply,
    r: RotationView,
    weeks: number,
    extra: { done?: string | undefined; newFeedUrl?: string },
  ) {
    const viewer = req.viewer!;
    const now = clock.now();
    const shifts = (await oncall.schedule(r, now, now + weeks * WEEK)).map(shiftView);
    const requests = viewer.contact ? (await store.pendingOncallRequests(viewer.contact)).filter((q) => q.team === r.owner) : [];
    const feeds: FeedView[] = (await store.calendarFeeds(req.person!.key)).map((f) => ({
      feed: f,
      label: f.scope === 'contact' ? `${oncall.nameOf(f.subject)}'s shifts` : `${oncall.rotation(f.subject)?.name ?? f.subject}'s shifts`,
    }));
    const paging = opts.settings().paging;
    return sendHtml(
      reply,
      oncallPage(pageContext(req, reply, opts), {
        rotations: oncall.rotations().map((x) => ({ name: x.name, href: hrefOf(x), current: x.id === r.id })),
        rotationId: r.id,
        name: r.name,
        timeZone: r.rotation.timeZone,
        current: shifts[0]!,
        shifts,
        weeks,
        me: viewer.contact,
        contacts: paging.contacts.map((c) => ({ id: c.id, name: c.name })),
        requests: requests.map((q) => ({ ...q, contactName: oncall.nameOf(q.contact), askedName: oncall.nameOf(q.asked) })),
        log: await store.oncallLog({ team: r.owner, limit: 20 }),
        nameOf: (id) => oncall.nameOf(id),
        feeds,
        newFeedUrl: extra.newFeedUrl,
        notice: extra.done ? DONE[extra.done] : undefined,
      }),
    );
  }

  app.get('/oncall', { schema: { querystring: PageQuery } }, async (req, reply) => {
    const top = oncall.rotation('');
    const first = top ?? oncall.rotations()[0];
    if (!first) return fail(req, reply, 404, 'The config has no on-call rotation (see "oncall" and "teams" in config/triage.yml).');
    if (!top) return reply.redirect(hrefOf(first), 302);
    return render(req, reply, top, req.query.weeks ?? 4, { done: req.query.done });
  });

  app.get('/oncall/:team', { schema: { params: Type.Object({ team: ContactId }), querystring: PageQuery } }, async (req, reply) => {
    const team = opts.settings().paging.teams.find((t) => t.id === req.params.team);
    // A team that shares the top level's rotation is shown the top level's.
    if (team && team.rotationOwner !== team.id) return reply.redirect('/oncall', 302);
    const r = rotationOr404(req, reply, req.params.team);
    if (!r) return reply;
    return render(req, reply, r, req.query.weeks ?? 4, { done: req.query.done });
  });

  app.post('/oncall/take', { schema: { body: ShiftBody } }, async (req, reply) => {
    const r = rotationOr404(req, reply, req.body.rotation);
    if (!r) return reply;
    const me = req.viewer!.contact;
    if (!me) return fail(req, reply, 403, 'Only a contact of the config can be on call; sign in with your contact name.');
    // The shift from now on when it has begun.
    const from = Math.max(Number(req.body.from), clock.now());
    const outcome = await oncall.addOverride(webActor(req), r, {
      contact: me,
      from,
      to: Number(req.body.until),
      covers: req.body.covers,
    });
    return after(req, reply, r, outcome, 'taken');
  });

  app.post('/oncall/tonight', { schema: { body: TonightBody } }, async (req, reply) => {
    const r = rotationOr404(req, reply, req.body.rotation);
    if (!r) return reply;
    const me = req.viewer!.contact;
    if (!me) return fail(req, reply, 403, 'Only a contact of the config can be on call; sign in with your contact name.');
    const { from, to } = tonight(r, clock.now());
    const outcome = await oncall.addOverride(webActor(req), r, { contact: me, from, to, covers: req.body.covers });
    return after(req, reply, r, outcome, 'taken');
  });

  app.post('/oncall/cover', { schema: { body: ShiftBody } }, async (req, reply) => {
    const r = rotationOr404(req, reply, req.body.rotation);
    if (!r) return reply;
    const { contact, covers } = req.body;
    if (!contact) return fail(req, reply, 400, 'Choose who covers.');
    const from = Math.max(Number(req.body.from), clock.now());
    const until = Number(req.body.until);
    const actor = webActor(req);
    // The person covered (or whoever covers, or an admin) decides at once; anyone else asks the person covered.
    if (actor.admin || actor.contact === covers || actor.contact === contact) {
      const outcome = await oncall.addOverride(actor, r, { contact, from, to: until, covers });
      return after(req, reply, r, outcome, actor.contact === covers ? 'handed' : 'taken');
    }
    const outcome = await oncall.request(actor, r, {
      kind: 'cover',
      contact,
      asked: covers,
      from,
      to: until,
      swapFrom: null,
      swapTo: null,
    });
    return after(req, reply, r, outcome, 'asked');
  });

  app.post('/oncall/swap', { schema: { body: SwapBody } }, async (req, reply) => {
    const r = rotationOr404(req, reply, req.body.rotation);
    if (!r) return reply;
    const me = req.viewer!.contact;
    if (!me) return fail(req, reply, 403, 'Only a contact of the config can swap shifts.');
    const [from, to] = req.body.mine.split('-').map(Number) as [number, number];
    const outcome = await oncall.request(webActor(req), r, {
      kind: 'swap',
      contact: me,
      asked: req.body.asked,
      from,
      to,
      swapFrom: Number(req.body.swapFrom),
      swapTo: Number(req.body.swapUntil),
    });
    return after(req, reply, r, outcome, 'asked');
  });

  app.post('/oncall/requests/:id/:answer', { schema: { params: AnswerParams, body: RotationBody } }, async (req, reply) => {
    const r = rotationOr404(req, reply, req.body.rotation);
    if (!r) return reply;
    const status = ({ accept: 'accepted', decline: 'declined', cancel: 'cancelled' } as const)[req.params.answer];
    return after(req, reply, r, await oncall.answer(webActor(req), req.params.id, status), req.params.answer);
  });

  app.post('/oncall/overrides/:id/end', { schema: { params: IdParams, body: RotationBody } }, async (req, reply) => {
    const r = rotationOr404(req, reply, req.body.rotation);
    if (!r) return reply;
    return after(req, reply, r, await oncall.endOverride(webActor(req), req.params.id), 'ended');
  });

  app.post('/oncall/feeds', { schema: { body: FeedBody } }, async (req, reply) => {
    const r = rotationOr404(req, reply, req.body.rotation);
    if (!r) return reply;
    const viewer = req.viewer!;
    if (req.body.scope === 'contact' && !viewer.contact) return fail(req, reply, 403, 'Only a contact of the config has shifts.');
    const { token, hash } = newFeedToken();
    await store.addCalendarFeed({
      tokenHash: hash,
      scope: req.body.scope,
      subject: req.body.scope === 'contact' ? viewer.contact! : r.id,
      // Filed under the person's stable key, as their sessions and tokens are (for /me).
      createdBy: req.person!.key,
      createdAt: clock.now(),
    });
    req.log.info({ scope: req.body.scope, by: viewer.name }, 'calendar feed made');
    // Shown once, in this answer: only the token's hash is stored.
    const base = opts.publicUrl?.replace(/\/$/, '') ?? `${req.protocol}://${req.host}`;
    return render(req, reply, r, 4, { newFeedUrl: `${base}/calendar/${token}.ics` });
  });

  app.post('/oncall/feeds/:id/revoke', { schema: { params: IdParams, body: RotationBody } }, async (req, reply) => {
    const r = rotationOr404(req, reply, req.body.rotation);
    if (!r) return reply;
    if (!(await store.revokeCalendarFeed(req.params.id, req.person!.key, clock.now())))
      return fail(req, reply, 404, `You have no feed ${req.params.id}.`);
    return reply.redirect(`${hrefOf(r)}?done=revoked`, 303);
  });
};

/**
 * "I'll take tonight": from now (or 18:00 local, when that is later) until the next handoff time of
 * day in the rotation's zone; before the morning's handoff, until that one.
 */
export function tonight(r: RotationView, now: number): { from: number; to: number } {
  const zone = r.rotation.timeZone;
  const w = wallTime(now, zone);
  const today = { year: w.year, month: w.month, day: w.day };
  const { hour, minute } = r.rotation.handoff;
  const beforeHandoff = w.hour * 60 + w.minute < hour * 60 + minute;
  const evening = instantOf({ ...today, hour: 18, minute: 0 }, zone);
  const from = beforeHandoff ? now : Math.max(now, evening);
  const to = instantOf({ ...(beforeHandoff ? today : addDays(today, 1)), hour, minute }, zone);
  return { from, to };
}

export default oncallPages;
