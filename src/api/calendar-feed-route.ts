import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Clock } from '../clock.js';
import type { CurrentConfig } from '../service/live-config.js';
import { hashFeedToken, type OncallService } from '../service/oncall-service.js';
import type { IncidentStore } from '../store/store.js';
import { calendarFeed, type FeedRotation } from './calendar-feed.js';

/** What the calendar feed route needs. */
export interface CalendarFeedRouteOptions {
  config: CurrentConfig;
  store: IncidentStore;
  oncall: OncallService;
  clock: Clock;
  /** PUBLIC_URL: its host names the events' UIDs. */
  publicUrl: string | undefined;
}

const DAY = 86_400_000;
/** Past shifts a feed still shows. */
const PAST_MS = 7 * DAY;

/**
 * GET /calendar/:token.ics: a calendar feed (made and revoked on the /oncall pages), for calendar
 * apps, which send no credentials: the secret token in the path is the credential, checked by its
 * SHA-256 (only that is stored). Unknown and revoked tokens get the same 404. The path is not logged.
 */
export const calendarFeedRoute: FastifyPluginAsyncTypebox<CalendarFeedRouteOptions> = async (app, opts) => {
  const host = opts.publicUrl ? new URL(opts.publicUrl).host : 'alert-triage';
  app.get(
    '/calendar/:file',
    { schema: { params: Type.Object({ file: Type.String({ pattern: '^[A-Za-z0-9_-]{20,100}\\.ics$' }) }) } },
    async (req, reply) => {
      const feed = await opts.store.calendarFeedByHash(hashFeedToken(req.params.file.slice(0, -'.ics'.length)));
      const notFound = () => reply.code(404).send({ error: 'Not Found', message: 'no such calendar feed (it may have been revoked)' });
      if (!feed) return notFound();
      const now = opts.clock.now();
      const from = now - PAST_MS;
      const to = now + opts.config.current.paging.calendarHorizonMs;
      const rotations = feed.scope === 'contact' ? opts.oncall.rotations() : [opts.oncall.rotations().find((r) => r.id === feed.subject)];
      if (rotations.some((r) => !r)) return notFound();
      const parts: FeedRotation[] = [];
      for (const r of rotations) {
        const shifts = (await opts.oncall.schedule(r!, from, to)).filter((s) => feed.scope === 'team' || s.contact === feed.subject);
        parts.push({ id: r!.id, name: r!.name, timeZone: r!.rotation.timeZone, shifts });
      }
      const name = feed.scope === 'contact' ? `On call: ${opts.oncall.nameOf(feed.subject)}` : `On call: ${rotations[0]!.name}`;
      const body = calendarFeed(name, parts, { now, from, to, host, nameOf: (id) => opts.oncall.nameOf(id) });
      return reply.type('text/calendar; charset=utf-8').header('cache-control', 'private, max-age=300').send(body);
    },
  );
};
