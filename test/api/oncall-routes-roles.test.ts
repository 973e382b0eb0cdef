import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { api, makeApp, shippedConfig } from '../helpers.js';
import { WebClient } from '../web/web-client.js';

// The override routes check the role before they look anything up: a viewer learns nothing from
// them, whether the override exists or not (issue 20's review).

const triage = {
  ...shippedConfig,
  paging: {
    ...shippedConfig.paging,
    contacts: shippedConfig.paging.contacts.map((c) => (c.id === 'dan' ? { ...c, access: 'viewer' as const } : c)),
  },
};
const web = { sessionSecret: 'x'.repeat(32), auth: { mode: 'proxy', header: 'X-Forwarded-Email', trusted: ['127.0.0.1'] } } as const;

/** A personal token of the person the proxy's header names. */
async function tokenOf(app: FastifyInstance, email: string): Promise<string> {
  const browser = new WebClient(app, { 'x-forwarded-email': email });
  await browser.get('/me');
  const made = await browser.post('/me/tokens', { label: 'cli' });
  return /<code class="secret">(tri_[^<]+)<\/code>/.exec(made.body)![1]!;
}

t.test('a viewer is refused every override change with the same 403, whether the override exists or not', async (t) => {
  const { app } = await makeApp(t, { config: { triage, web } });
  const made = await api(app, 'POST', '/api/oncall/overrides', {
    contact: 'carol',
    from: '2026-11-24T09:00:00Z',
    until: '2026-11-24T12:00:00Z',
  });
  t.equal(made.status, 201);
  const id = made.body.id as number;
  const dan = { authorization: `Bearer ${await tokenOf(app, 'dan@example.com')}` };
  const answers = [];
  for (const [method, url] of [
    ['DELETE', `/api/oncall/overrides/${id}`],
    ['DELETE', `/api/oncall/overrides/${id + 1000}`],
    ['POST', `/api/oncall/overrides/${id}/end`],
    ['POST', `/api/oncall/overrides/${id + 1000}/end`],
  ] as const) {
    const res = await app.inject({ method, url, headers: dan });
    answers.push([res.statusCode, res.json().message]);
  }
  t.equal(new Set(answers.map((a) => JSON.stringify(a))).size, 1, 'one answer for an override that exists and one that does not');
  t.equal(answers[0]![0], 403);
  t.match(answers[0]![1], /This needs the responder role/);
  t.equal((await api(app, 'GET', '/api/oncall/overrides')).body.overrides.length, 1, 'untouched');
});
