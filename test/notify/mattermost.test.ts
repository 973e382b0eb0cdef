// Mattermost through its REST API as a bot (a post, then edits and thread replies, lookups before a
// resend) and through an incoming webhook (a post per page), against a stand-in that answers as
// Mattermost does; hostile labels escaped so that no label can mention @channel.
import t, { type Test } from 'tap';
import { parseConfig } from '../../src/config/load-config.js';
import { alert, API_TOKEN, payload, postWebhook, shippedConfigText, uniqueGroup } from '../helpers.js';
import { MattermostServer } from '../fakes/mattermost-server.js';
import { pagingApp } from './paging-helpers.js';

const TOKEN = 'mm-bot-token-0000000000';

function config(target = 'ops/incidents') {
  const text = shippedConfigText()
    .replace('high:     { channels: ["#incidents"],', `high:     { channels: ["#incidents"], to: ["mattermost:${target}"],`)
    .replace('    name: Carol Diaz\n', '    name: Carol Diaz\n    addresses: { mattermost: carol.diaz }\n');
  return parseConfig(text, 'triage.yml');
}

async function setup(t: Test, mode: 'rest' | 'webhook', opts: { burst?: number; timeoutMs?: number; target?: string } = {}) {
  let now = () => Date.now();
  const mm = await new MattermostServer(TOKEN, {
    channels: ['ops/incidents', 'ops/town-square'],
    now: () => now(),
    ...(opts.burst ? { burst: opts.burst, refillMs: 3000 } : {}),
  }).start();
  t.teardown(() => mm.stop());
  const ctx = await pagingApp(
    t,
    { triage: config(opts.target) },
    {},
    {
      ...(mode === 'rest' ? { mattermostUrl: mm.url, mattermostBotToken: TOKEN } : { mattermostWebhookUrl: mm.webhookUrl }),
      ...(opts.timeoutMs ? { httpTimeoutMs: opts.timeoutMs } : {}),
    },
  );
  now = () => ctx.clock.now();
  return { ...ctx, mm };
}

const auth = { authorization: `Bearer ${API_TOKEN}` };
const open = async (app: Awaited<ReturnType<typeof setup>>['app'], name: string, extra: Parameters<typeof alert>[1] = {}) =>
  (await postWebhook(app, payload(uniqueGroup(), [alert(name, extra)]))).json().incident.id as number;

t.test("REST: the page is Slack's announcement; later events edit it and reply in its thread", async (t) => {
  const { app, mm, settle } = await setup(t, 'rest');
  const id = await open(app, 'ServiceDown', { annotations: { summary: 'api down', runbook_url: 'https://runbooks.example/api' } });
  await settle();
  const [root] = mm.postedTo('ops/incidents');
  t.ok(root, 'announced');
  t.match(root!.message, /^@carol\.diaz \\\[HIGH\\\] ServiceDown/);
  t.match(root!.props, {
    alert_triage_outbox_id: /^\d+$/,
    attachments: [
      {
        color: '#F5A623',
        title: /^🟠 HIGH: ServiceDown/,
        title_link: `https://triage.example.com/incidents/${id}`,
        fields: [
          { title: 'Incident' },
          { title: 'Status', value: 'open' },
          { title: 'Severity' },
          { title: 'Respond by' },
          { title: 'Alerts' },
        ],
        text: /\*\*api down\*\*[\s\S]*\[Runbook\]\(https:\/\/runbooks\.example\/api\)[\s\S]*\*\*First response\*\*\n1\. /,
      },
    ],
  });
  await app.inject({ method: 'POST', url: `/api/incidents/${id}/ack`, headers: auth, payload: { by: 'carol', note: 'on it' } });
  await settle();
  const posts = mm.postedTo('ops/incidents');
  t.equal(posts.length, 2, 'one reply');
  t.equal(posts[1]!.root_id, root!.id, 'in the thread');
  t.match(posts[1]!.message, /^Acknowledged by carol: on it/);
  t.equal(root!.edits, 1, 'the announcement edited');
  t.match(root!.props, { alert_triage_outbox_id: /^\d+$/, attachments: [{ fields: [{}, { value: 'acknowledged by carol' }] }] });
});

t.test('REST: an unknown outcome is looked up in the channel; found, it is not posted again', async (t) => {
  const { app, mm, drain, fastForward, store } = await setup(t, 'rest', { timeoutMs: 300 });
  mm.failNext({ hang: true, record: true });
  const id = await open(app, 'ServiceDown');
  await drain();
  await fastForward(10_000, 1000);
  t.equal(mm.posts.length, 1, 'posted once');
  t.match(
    (await store.getIncident(id))!.timeline.find((e) => e.kind === 'paged' && e.channel === 'mattermost'),
    { outcome: 'found' },
  );
  // The announcement found became the thread's root: the acknowledgement replies to it.
  await app.inject({ method: 'POST', url: `/api/incidents/${id}/ack`, headers: auth, payload: { by: 'carol' } });
  await fastForward(1000);
  t.equal(mm.posts[1]?.root_id, mm.posts[0]!.id);
});

t.test('a 429 is waited out; a channel the bot cannot post in is final', async (t) => {
  const { app, mm, drain, fastForward, store } = await setup(t, 'rest', { burst: 2 });
  await open(app, 'ServiceDown'); // a channel lookup and a post: the burst
  const second = await open(app, 'ServiceDown2');
  await drain();
  await fastForward(500);
  t.match(
    (await store.getIncident(second))!.timeline.find((e) => e.kind === 'page_retrying'),
    {
      reason: /^Mattermost HTTP 429/,
    },
  );
  await fastForward(5000, 500);
  t.equal(mm.posts.length, 2, 'both, once each');

  const denied = await setup(t, 'rest', { target: 'ops/secret' });
  const id = await open(denied.app, 'ServiceDown');
  await denied.drain();
  t.match(
    (await denied.store.getIncident(id))!.timeline.find((e) => e.kind === 'page_failed'),
    {
      outcome: 'failed',
      reason: /^Mattermost HTTP 404: .*Channel does not exist/,
    },
  );
});

t.test('incoming webhook: a post per page in the named channel; hostile labels cannot mention anyone', async (t) => {
  const { app, mm, settle } = await setup(t, 'webhook', { target: 'incidents' });
  const id = await open(app, 'ServiceDown', {
    labels: { instance: '@channel' },
    annotations: { summary: '@all **now** [x](https://evil.example) <!channel>' },
  });
  await settle();
  await app.inject({ method: 'POST', url: `/api/incidents/${id}/resolve`, headers: auth, payload: { by: 'carol' } });
  await settle();
  const posts = mm.postedTo('ops/incidents');
  t.equal(posts.length, 2, 'two posts: a webhook cannot thread nor edit');
  t.ok(posts.every((p) => p.viaWebhook));
  const text = JSON.stringify(posts[0]!.props['attachments']);
  t.notMatch(text, /@(channel|all)\b/, `no @channel nor @all: ${text}`);
  t.match(text, /@\u2060all \\\\\*\\\\\*now\\\\\*\\\\\* \\\\\[x\\\\\]/, 'Markdown escaped');
  t.match(posts[1]!.message, /Resolved by carol/);
});
