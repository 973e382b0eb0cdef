import type { CurrentConfig } from '../service/live-config.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Clock } from '../clock.js';
import { assertRole } from '../http/acting-person.js';
import type { RuntimeOverride, Shift } from '../paging/oncall.js';
import { OFFSET_DATE_TIME, parseOffsetDateTime, wallTime } from '../paging/zoned-time.js';
import type { PagingConfig } from '../paging/paging-config.js';
import type { Actor, OncallService, Outcome, RotationView } from '../service/oncall-service.js';
import type { IncidentStore } from '../store/store.js';

/** What the on-call routes need. */
export interface OncallRoutesOptions {
  /** The config in force (a reload applies at once): its paging sections. */
  config: CurrentConfig;
  store: IncidentStore;
  oncall: OncallService;
  clock: Clock;
  /** Sets `req.person` from the bearer token, or answers 401. */
  auth: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', maxLength: 100 });
// Checked by hand (instantOf), so that a wrong one is answered in words, not with a regular expression.
const Instant = Type.String({ maxLength: 64 });
const By = Type.String({ minLength: 1, maxLength: 200 });

const OverrideBody = Type.Object(
  {
    /** A team id; left out, the top level's rotation. */
    team: Type.Optional(Id),
    contact: Id,
    from: Instant,
    until: Instant,
    /** Who makes it, for the log and the answer; "api" when left out. */
    by: Type.Optional(By),
  },
  { additionalProperties: false },
);

const DAY = 86_400_000;
/** The most an export or a schedule answer spans. */
const MAX_RANGE_MS = 366 * DAY;

/** `text` as an instant, or why not, in words. */
export function instantOf(name: string, text: string): number | string {
  const ms = parseOffsetDateTime(text);
  if (ms !== undefined) return ms;
  return OFFSET_DATE_TIME.test(text)
    ? `${name}: "${text}" is not a time that exists`
    : `${name} must be a date and time with an offset, like 2026-12-24T18:00+01:00`;
}

/** "2026-12-07 09:00", the wall time in `timeZone`. */
function localText(ms: number, timeZone: string): string {
  const w = wallTime(ms, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${w.year}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)}`;
}

/** A CSV field: quoted when it holds a comma, quote or line end; a leading =, +, - or @ is defused (spreadsheet formulas). */
function csvField(v: string | number): string {
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * GET /api/oncall[?team=ID]: who is on call now and next, with the handoff times, for the top
 * level's rotation (plus every team's) or one team's. /api/oncall/overrides: overrides made at run
 * time, stored in the database, so they win at once on every replica and survive restarts and
 * reloads; bounded (two years ahead, 500 open per rotation) and listed by pages. /api/oncall/shifts:
 * the schedule over a range, as JSON or CSV (for on-call pay). /api/oncall/log: who changed what.
 */
export const oncallRoutes: FastifyPluginAsyncTypebox<OncallRoutesOptions> = async (app, opts) => {
  const { store, clock, oncall } = opts;
  app.addHook('onRequest', opts.auth);
  app.addHook('preHandler', async (req) => {
    // Every method, HEAD (which Fastify adds for each GET) included: reading needs a viewer; every
    // change a responder at least (for anyone else, an admin: see mayActFor).
    assertRole(req, req.method === 'GET' || req.method === 'HEAD' ? 'viewer' : 'responder');
  });
  /**
   * The person acting, as the on-call service sees them. Automation on API_TOKEN may name whom it
   * acts for (`by`); anyone else is recorded as themselves.
   */
  const apiActor = (req: FastifyRequest, by: string | undefined): Actor => {
    const p = req.person!;
    return { name: p.via === 'api-token' ? (by ?? p.name) : p.name, contact: p.contact ?? undefined, admin: p.role === 'admin' };
  };
  const audit = (req: FastifyRequest, action: string, fields: object) =>
    req.log.info(
      { audit: req.person?.role === 'admin' ? 'admin' : 'override', action, person: req.person?.key, ...fields },
      `on-call ${action.replace('-', ' ')}`,
    );

  const contactJson = (paging: PagingConfig, id: string) => {
    const c = paging.contacts.find((x) => x.id === id);
    return { id, name: c?.name ?? id, email: c?.email ?? null, slack: c?.slack ?? null };
  };
  const shiftJson = (paging: PagingConfig, s: Shift) => ({
    contact: contactJson(paging, s.contact),
    from: iso(s.from),
    until: iso(s.until),
    override: s.override,
    ...(s.taken && 'id' in s.taken ? { overrideId: s.taken.id, overrideBy: s.taken.by, covers: s.taken.covers } : {}),
  });
  const rotationJson = async (paging: PagingConfig, r: RotationView | undefined, now: number) => {
    if (!r) return { timeZone: null, at: iso(now), current: null, next: null };
    const { current, next } = await oncall.now(r);
    return { timeZone: r.rotation.timeZone, at: iso(now), current: shiftJson(paging, current), next: shiftJson(paging, next) };
  };
  const overrideJson = (o: RuntimeOverride) => ({
    id: o.id,
    team: o.team,
    contact: o.contact,
    from: iso(o.from),
    until: iso(o.to),
    by: o.by,
    createdAt: iso(o.createdAt),
    covers: o.covers,
  });
  const badRequest = (message: string) => ({ error: 'Bad Request', message });
  const send = <T>(reply: FastifyReply, outcome: Outcome<T>, json: (v: T) => unknown, code = 200) => {
    if (outcome.ok) return reply.code(code).send(json(outcome.value));
    const error = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict' }[outcome.status];
    return reply.code(outcome.status).send({ error, message: outcome.message });
  };
  /** The rotation an override or a schedule of `team` (left out: the top level's) belongs to, or why none. */
  const rotationFor = (team: string | undefined, forOverride: boolean): RotationView | string => {
    const paging = opts.config.current.paging;
    if (team === undefined) return oncall.rotation('') ?? 'team: the config has no top-level on-call rotation; name a team';
    const t = paging.teams.find((x) => x.id === team);
    if (!t) return `team: no team "${team}" in the config`;
    if (!t.rotation) return `team: "${team}" has no on-call rotation`;
    // A team without a rotation of its own shares the top level's: an override there is the top level's.
    if (forOverride && t.rotationOwner !== team)
      return `team: "${team}" has no rotation of its own; it pages the top-level on-call, so leave team out`;
    return oncall.rotation(team)!;
  };

  app.get(
    '/oncall',
    { schema: { querystring: Type.Object({ team: Type.Optional(Id) }, { additionalProperties: false }) } },
    async (req, reply) => {
      const paging = opts.config.current.paging;
      const now = clock.now();
      if (req.query.team !== undefined) {
        const team = paging.teams.find((t) => t.id === req.query.team);
        if (!team) return reply.code(404).send({ error: 'Not Found', message: `no team "${req.query.team}" in the config` });
        return { team: team.id, ...(await rotationJson(paging, team.rotation ? oncall.rotation(team.id) : undefined, now)) };
      }
      if (!paging.rotation && paging.teams.length === 0) {
        return reply
          .code(404)
          .send({ error: 'Not Found', message: 'no on-call rotation in the config (see "oncall" and "teams" in config/triage.yml)' });
      }
      const teams = [];
      for (const t of paging.teams)
        teams.push({ team: t.id, ...(await rotationJson(paging, t.rotation ? oncall.rotation(t.id) : undefined, now)) });
      return { ...(await rotationJson(paging, oncall.rotation(''), now)), teams };
    },
  );

  app.get(
    '/oncall/overrides',
    {
      schema: {
        querystring: Type.Object(
          {
            team: Type.Optional(Id),
            /** The id of the last override of the previous page. */
            after: Type.Optional(Type.Integer({ minimum: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const limit = req.query.limit ?? 100;
      // team=ID filters by the team whose rotation it is; without it, every rotation's.
      const page = await store.listOverrides({
        endingAfter: clock.now(),
        ...(req.query.team !== undefined ? { team: req.query.team } : {}),
        afterId: req.query.after ?? 0,
        limit,
      });
      return { overrides: page.map(overrideJson), next: page.length === limit ? page.at(-1)!.id : null };
    },
  );

  app.post('/oncall/overrides', { schema: { body: OverrideBody } }, async (req, reply) => {
    // A responder takes overrides for themselves; for anyone else it is an admin's (docs/people.md).
    assertRole(req, req.person?.contact === req.body.contact ? 'responder' : 'admin');
    const r = rotationFor(req.body.team, true);
    if (typeof r === 'string') return reply.code(400).send(badRequest(r));
    const from = instantOf('from', req.body.from);
    if (typeof from === 'string') return reply.code(400).send(badRequest(from));
    const until = instantOf('until', req.body.until);
    if (typeof until === 'string') return reply.code(400).send(badRequest(until));
    const outcome = await oncall.addOverride(apiActor(req, req.body.by), r, { contact: req.body.contact, from, to: until });
    if (outcome.ok)
      audit(req, 'override-added', {
        override: outcome.value.id,
        team: r.owner,
        contact: req.body.contact,
        from: iso(from),
        until: iso(until),
        by: outcome.value.by,
      });
    return send(reply, outcome, overrideJson, 201);
  });

  const ByQuery = Type.Object({ by: Type.Optional(By) }, { additionalProperties: false });
  const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

  app.post('/oncall/overrides/:id/end', { schema: { params: IdParams, querystring: ByQuery } }, async (req, reply) => {
    const outcome = await oncall.endOverride(apiActor(req, req.query.by), req.params.id);
    if (outcome.ok) audit(req, 'override-ended', { override: req.params.id, by: apiActor(req, req.query.by).name });
    return send(reply, outcome, overrideJson);
  });

  app.delete('/oncall/overrides/:id', { schema: { params: IdParams, querystring: ByQuery } }, async (req, reply) => {
    const override = await store.getOverride(req.params.id);
    if (!override) return reply.code(404).send({ error: 'Not Found', message: `no override ${req.params.id}` });
    const actor = apiActor(req, req.query.by);
    // Its contact or the person it covers removes it; anyone else needs the admin role.
    if (!actor.admin && actor.contact !== override.contact && actor.contact !== override.covers) assertRole(req, 'admin');
    if (!(await store.deleteOverride(req.params.id, actor.name, clock.now())))
      return reply.code(404).send({ error: 'Not Found', message: `no override ${req.params.id}` });
    audit(req, 'override-removed', { override: req.params.id, by: actor.name });
    return reply.code(204).send();
  });

  app.get(
    '/oncall/log',
    {
      schema: {
        querystring: Type.Object(
          { team: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const entries = await store.oncallLog({
        ...(req.query.team !== undefined ? { team: req.query.team } : {}),
        limit: req.query.limit ?? 100,
      });
      return { entries: entries.map((e) => ({ ...e, at: iso(e.at) })) };
    },
  );

  app.get(
    '/oncall/shifts',
    {
      schema: {
        querystring: Type.Object(
          {
            team: Type.Optional(Id),
            from: Instant,
            until: Instant,
            format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req, reply) => {
      const r = rotationFor(req.query.team, false);
      if (typeof r === 'string') return reply.code(400).send(badRequest(r));
      const from = instantOf('from', req.query.from);
      if (typeof from === 'string') return reply.code(400).send(badRequest(from));
      const until = instantOf('until', req.query.until);
      if (typeof until === 'string') return reply.code(400).send(badRequest(until));
      if (!(until > from)) return reply.code(400).send(badRequest('until must be after from'));
      if (until - from > MAX_RANGE_MS) return reply.code(400).send(badRequest('the range may span at most 366 days: ask for several'));
      const paging = opts.config.current.paging;
      // Shifts are cut to the range: the hours are those worked inside it.
      const shifts = (await oncall.schedule(r, from, until)).map((s) => ({
        ...s,
        from: Math.max(s.from, from),
        until: Math.min(s.until, until),
      }));
      if (req.query.format !== 'csv') return { timeZone: r.rotation.timeZone, shifts: shifts.map((s) => shiftJson(paging, s)) };
      const zone = r.rotation.timeZone;
      const rows = [
        [
          'rotation',
          'contact',
          'name',
          'from_utc',
          'until_utc',
          `from_local (${zone})`,
          `until_local (${zone})`,
          'hours',
          'override',
          'override_by',
          'covers',
        ],
        ...shifts.map((s) => [
          r.id || 'top-level',
          s.contact,
          oncall.nameOf(s.contact),
          iso(s.from),
          iso(s.until),
          localText(s.from, zone),
          localText(s.until, zone),
          Math.round(((s.until - s.from) / 3_600_000) * 100) / 100,
          s.override ? 'yes' : 'no',
          s.taken && 'id' in s.taken ? s.taken.by : '',
          s.taken && 'id' in s.taken ? (s.taken.covers ?? '') : '',
        ]),
      ];
      const name = `oncall-${r.id || 'top-level'}-${iso(from).slice(0, 10)}-${iso(until).slice(0, 10)}.csv`;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n');
    },
  );
};
