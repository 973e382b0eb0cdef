import type { FastifyInstance } from 'fastify';
import type { Clock } from '../clock.js';
import type { PagingConfig } from '../paging/paging-config.js';
import { oncallNow, type Shift } from '../paging/oncall.js';
import { requireToken } from '../http/require-token.js';

/** What the on-call route needs. */
export interface OncallRoutesOptions {
  paging: PagingConfig;
  clock: Clock;
  token: string | undefined;
}

/** GET /api/oncall: who is on call now and who is next, with the handoff times. */
export async function oncallRoutes(app: FastifyInstance, opts: OncallRoutesOptions) {
  const { paging, clock } = opts;
  const contact = (id: string) => {
    const c = paging.contacts.find((x) => x.id === id);
    return { id, name: c?.name ?? id, email: c?.email ?? null, slack: c?.slack ?? null };
  };
  const shift = (s: Shift) => ({ contact: contact(s.contact), from: new Date(s.from).toISOString(), until: new Date(s.until).toISOString(), override: s.override });
  app.addHook('onRequest', requireToken(opts.token, 'api', false));
  app.get('/oncall', async (req, reply) => {
    const r = paging.rotation;
    if (!r) return reply.code(404).send({ error: 'Not Found', message: 'no on-call rotation in the config (see "oncall" in config/triage.yml)' });
    const now = clock.now();
    const { current, next } = oncallNow(r, now);
    return { timeZone: r.timeZone, at: new Date(now).toISOString(), current: shift(current), next: shift(next) };
  });
}
