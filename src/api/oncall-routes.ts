import type { CurrentConfig } from '../service/live-config.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Clock } from '../clock.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { assertRole } from '../http/acting-person.js';
import { oncallNow, overridesOf, type RuntimeOverride, type Shift } from '../paging/oncall.js';
import { parseOffsetDateTime } from '../paging/zoned-time.js';
import type { PagingConfig, PagingPolicy } from '../paging/paging-config.js';
import type { IncidentStore } from '../store/store.js';

/** What the on-call routes need. */
export interface OncallRoutesOptions {
  /** The paging config in force. */
  /** The config in force (a reload applies at once): its paging sections. */
  config: CurrentConfig;
  store: IncidentStore;
  clock: Clock;
  /** Sets `req.person` from the bearer token, or answers 401. */
  auth: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', maxLength: 100 });
// RFC 3339 with an offset: an override names an instant, whatever the server's zone.
const Instant = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$' });

const OverrideBody = Type.Object(
  {
    /** A team id; left out, the top level's rotation. */
    team: Type.Optional(Id),
    contact: Id,
    from: Instant,
    until: Instant,
    /** Whom automation on API_TOKEN makes it for; anyone else is recorded as themselves. */
    by: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

/**
 * GET /api/oncall[?team=ID]: who is on call now and next, with the handoff times, for the top
 * level's rotation (plus every team's) or one team's. /api/oncall/overrides: overrides made at run
 * time, stored in the database, so they win at once on every replica and survive restarts and reloads.
 */
export const oncallRoutes: FastifyPluginAsyncTypebox<OncallRoutesOptions> = async (app, opts) => {
  const { store, clock } = opts;
  app.addHook('onRequest', opts.auth);
  app.addHook('preHandler', async (req) => {
    if (req.method === 'GET') assertRole(req, 'viewer');
  });
  /** Who is recorded as making a change: the person acting; automation on API_TOKEN may name someone. */
  const byOf = (req: FastifyRequest, by: string | undefined) => {
    const p = req.person!;
    return p.via === 'api-token' ? (by ?? p.name) : p.name;
  };
  /** A responder takes overrides for themselves; for anyone else it is an admin's. */
  const assertMayOverride = (req: FastifyRequest, contact: string) => {
    assertRole(req, req.person?.contact === contact ? 'responder' : 'admin');
  };

  const contactJson = (paging: PagingConfig, id: string) => {
    const c = paging.contacts.find((x) => x.id === id);
    return { id, name: c?.name ?? id, email: c?.email ?? null, slack: c?.slack ?? null };
  };
  const rotationJson = (paging: PagingConfig, policy: PagingPolicy, overrides: RuntimeOverride[], now: number) => {
    if (!policy.rotation) return { timeZone: null, at: iso(now), current: null, next: null };
    const shift = (s: Shift) => ({ contact: contactJson(paging, s.contact), from: iso(s.from), until: iso(s.until), override: s.override });
    const { current, next } = oncallNow(policy.rotation, now, overridesOf(overrides, policy.rotationOwner));
    return { timeZone: policy.rotation.timeZone, at: iso(now), current: shift(current), next: shift(next) };
  };
  const overrideJson = (o: RuntimeOverride) => ({
    id: o.id,
    team: o.team,
    contact: o.contact,
    from: iso(o.from),
    until: iso(o.to),
    by: o.by,
    createdAt: iso(o.createdAt),
  });
  const badRequest = (message: string) => ({ error: 'Bad Request', message });

  app.get(
    '/oncall',
    { schema: { querystring: Type.Object({ team: Type.Optional(Id) }, { additionalProperties: false }) } },
    async (req, reply) => {
      const paging = opts.config.current.paging;
      const now = clock.now();
      const overrides = await store.listOverrides(now);
      if (req.query.team !== undefined) {
        const team = paging.teams.find((t) => t.id === req.query.team);
        if (!team) return reply.code(404).send({ error: 'Not Found', message: `no team "${req.query.team}" in the config` });
        return { team: team.id, ...rotationJson(paging, team, overrides, now) };
      }
      if (!paging.rotation && paging.teams.length === 0) {
        return reply
          .code(404)
          .send({ error: 'Not Found', message: 'no on-call rotation in the config (see "oncall" and "teams" in config/triage.yml)' });
      }
      return {
        ...rotationJson(paging, paging, overrides, now),
        teams: paging.teams.map((t) => ({ team: t.id, ...rotationJson(paging, t, overrides, now) })),
      };
    },
  );

  app.get(
    '/oncall/overrides',
    { schema: { querystring: Type.Object({ team: Type.Optional(Id) }, { additionalProperties: false }) } },
    async (req) => {
      const all = await store.listOverrides(clock.now());
      return { overrides: (req.query.team === undefined ? all : all.filter((o) => o.team === req.query.team)).map(overrideJson) };
    },
  );

  app.post('/oncall/overrides', { schema: { body: OverrideBody } }, async (req, reply) => {
    const paging = opts.config.current.paging;
    const { team = null, contact } = req.body;
    assertMayOverride(req, contact);
    const by = byOf(req, req.body.by);
    const policy = team === null ? paging : paging.teams.find((t) => t.id === team);
    if (!policy) return reply.code(400).send(badRequest(`team: no team "${team}" in the config`));
    if (!policy.rotation)
      return reply
        .code(400)
        .send(
          badRequest(
            team === null ? 'team: the config has no top-level on-call rotation; name a team' : `team: "${team}" has no on-call rotation`,
          ),
        );
    // A team without a rotation of its own shares the top level's: an override there is the top level's.
    if (team !== null && policy.rotationOwner !== team) {
      return reply
        .code(400)
        .send(badRequest(`team: "${team}" has no rotation of its own; it pages the top-level on-call, so leave team out`));
    }
    const owner = policy.rotationOwner;
    if (!paging.contacts.some((c) => c.id === contact))
      return reply.code(400).send(badRequest(`contact: no contact "${contact}" in the config`));
    const from = parseOffsetDateTime(req.body.from);
    const until = parseOffsetDateTime(req.body.until);
    if (from === undefined) return reply.code(400).send(badRequest(`from: "${req.body.from}" is not a time that exists`));
    if (until === undefined) return reply.code(400).send(badRequest(`until: "${req.body.until}" is not a time that exists`));
    if (!(until > from)) return reply.code(400).send(badRequest('until: must be after from'));
    const stored = await store.addOverride({ team: owner, contact, from, to: until, by, createdAt: clock.now() });
    req.log.info(
      {
        audit: req.person?.role === 'admin' ? 'admin' : 'override',
        action: 'override-added',
        person: req.person?.key,
        override: stored.id,
        team: owner,
        contact,
        from: iso(from),
        until: iso(until),
        by,
      },
      'on-call override added',
    );
    return reply.code(201).send(overrideJson(stored));
  });

  app.delete(
    '/oncall/overrides/:id',
    {
      schema: {
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        querystring: Type.Object({ by: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      const override = (await store.listOverrides(0)).find((o) => o.id === req.params.id);
      if (!override) return reply.code(404).send({ error: 'Not Found', message: `no override ${req.params.id}` });
      assertMayOverride(req, override.contact);
      if (!(await store.deleteOverride(req.params.id)))
        return reply.code(404).send({ error: 'Not Found', message: `no override ${req.params.id}` });
      req.log.info(
        { audit: 'override', action: 'override-removed', person: req.person?.key, override: req.params.id, by: byOf(req, req.query.by) },
        'on-call override removed',
      );
      return reply.code(204).send();
    },
  );
};
