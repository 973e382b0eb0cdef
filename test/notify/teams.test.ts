// Microsoft Teams through Workflows webhooks, against a stand-in of Power Automate's HTTP trigger that
// validates each card as Adaptive Card 1.4 with Microsoft's reference parser: the card's content, a
// new card for each update, 429 and 5xx retried, a refusal not retried, the URL never shown.
import t, { type Test } from 'tap';
import { parseConfig } from '../../src/config/load-config.js';
import { incidentCard } from '../../src/notify/teams/adaptive-card.js';
import { alert, API_TOKEN, payload, postWebhook, shippedConfigText, uniqueGroup } from '../helpers.js';
import { validateAdaptiveCard } from '../fakes/adaptive-card-validator.js';
import { TeamsWorkflowsServer } from '../fakes/teams-workflows-server.js';
import { pagingApp } from './paging-helpers.js';

function config() {
  const text = shippedConfigText()
    .replace('critical: { channels: ["#security-incident"],', 'critical: { channels: ["#security-incident"], to: ["teams:sec-ops"],')
    .replace('high:     { channels: ["#incidents"],', 'high:     { channels: ["#incidents"], to: ["teams:sec-ops"],')
    .replace('    name: Alice Martin\n', '    name: Alice Martin\n    addresses: { teams: alice@example.com }\n');
  return parseConfig(text, 'triage.yml');
}

async function setup(t: Test, opts: ConstructorParameters<typeof TeamsWorkflowsServer>[0] = {}, timeoutMs?: number) {
  let now = () => Date.now();
  const teams = await new TeamsWorkflowsServer({ now: () => now(), ...opts }).start();
  t.teardown(() => teams.stop());
  const url = teams.workflowUrl('Security Ops');
  const ctx = await pagingApp(
    t,
    { triage: config() },
    {},
    { teamsWebhookUrls: { SEC_OPS: url }, ...(timeoutMs ? { httpTimeoutMs: timeoutMs } : {}) },
  );
  now = () => ctx.clock.now();
  return { ...ctx, teams, url };
}

const open = async (app: Awaited<ReturnType<typeof setup>>['app'], name: string, extra: Parameters<typeof alert>[1] = {}) =>
  (await postWebhook(app, payload(uniqueGroup(), [alert(name, extra)]))).json().incident.id as number;

t.test('a Critical posts one Adaptive Card 1.4: severity and colour, title, deadline, first response, link', async (t) => {
  const { app, teams, settle, store } = await setup(t);
  const id = await open(app, 'DDoSAttack', { annotations: { summary: 'flood', runbook_url: 'https://runbooks.example/ddos' } });
  await settle();
  const posts = teams.postedTo('Security Ops');
  t.equal(posts.length, 1, 'one card');
  const { card, text } = posts[0]!;
  t.same(validateAdaptiveCard(card, '1.4'), [], 'valid as Adaptive Card 1.4');
  t.match(card, {
    type: 'AdaptiveCard',
    version: '1.4',
    body: [{ type: 'Container', style: 'attention', items: [{ inlines: [{ color: 'Attention', weight: 'Bolder' }] }] }],
    actions: [
      { type: 'Action.OpenUrl', title: 'Open the incident', url: `https://triage.example.com/incidents/${id}` },
      { type: 'Action.OpenUrl', title: 'Runbook', url: 'https://runbooks.example/ddos' },
    ],
    msteams: { width: 'Full', entities: [{ type: 'mention', text: '<at>alice@example.com</at>', mentioned: { id: 'alice@example.com' } }] },
  });
  t.match(text, /^🔴 CRITICAL: DDoSAttack/);
  t.match(text, /\nNew incident\n/);
  t.match(text, /Respond by: /);
  t.match(text, /First response\n1\. /);
  t.match(text, /Paging <at>alice@example\.com<\/at>/);
  t.match(
    (await store.getIncident(id))!.timeline.find((e) => e.kind === 'paged' && e.channel === 'teams'),
    {
      target: 'sec-ops',
      recipients: ['alice@example.com'],
      outcome: 'sent',
    },
  );
});

t.test('acknowledged and resolved are new cards: a Workflows webhook cannot edit one', async (t) => {
  const { app, teams, settle } = await setup(t);
  const id = await open(app, 'ServiceDown');
  await settle();
  const auth = { authorization: `Bearer ${API_TOKEN}` };
  await app.inject({ method: 'POST', url: `/api/incidents/${id}/ack`, headers: auth, payload: { by: 'carol', note: 'on it' } });
  await settle();
  await app.inject({ method: 'POST', url: `/api/incidents/${id}/resolve`, headers: auth, payload: { by: 'carol' } });
  await settle();
  const posts = teams.postedTo('Security Ops');
  t.equal(posts.length, 3, 'three cards, none edited');
  t.match(posts[1]!.text, /Acknowledged by carol: on it/);
  t.match(posts[1]!.card, { body: [{ style: 'warning' }] });
  t.match(posts[2]!.text, /Resolved by carol/);
  t.notMatch(posts[2]!.text, /First response/, 'a resolved incident needs no first response');
  t.notMatch(posts[2]!.text, /Paging/, 'nobody is paged by a resolution');
  t.ok(
    posts.every((p) => validateAdaptiveCard(p.card).length === 0),
    'every card valid',
  );
});

t.test('hostile labels: no Markdown, no forged mention, no card function, no bidi reversal', async (t) => {
  const { app, teams, settle } = await setup(t);
  await open(app, 'ServiceDown', {
    labels: { instance: '**x** [click](https://evil.example) <at>everyone</at> {{DATE(2017-02-14T06:08:39Z)}}' },
    annotations: { summary: '# heading\n1. list \u202Eevil' },
  });
  await settle();
  const { card } = teams.postedTo('Security Ops')[0]!;
  t.same(validateAdaptiveCard(card), []);
  const json = JSON.stringify(card);
  t.notMatch(json, /<at>everyone/, 'no <at> from a label');
  t.notMatch(json, /\{\{DATE/, 'no {{ function from a label');
  t.match(json, /\\\\\*\\\\\*x\\\\\*\\\\\* \\\\\[click\\\\\]\\\\\(https:/, 'Markdown escaped in facts');
  t.match(json, /\[U\+202E\]evil/, 'bidi controls shown');
  t.notMatch(json, /\u202E/);
});

t.test('a throttled flow (429 Retry-After) and a failing one (502) are retried; each card arrives once', async (t) => {
  const { app, teams, drain, fastForward, store } = await setup(t, { burst: 1, refillMs: 60_000 });
  await open(app, 'ServiceDown');
  const second = await open(app, 'ServiceDown2');
  await drain();
  await fastForward(1000);
  t.equal(teams.posts.length, 1);
  const retry = (await store.getIncident(second))!.timeline.find((e) => e.kind === 'page_retrying');
  t.match(retry, { channel: 'teams', reason: /^Teams HTTP 429: .*WorkflowTriggerIsThrottled/ });
  t.ok(retry && retry.kind === 'page_retrying' && retry.nextAttemptAt - retry.at >= 59_000, 'waits as long as Retry-After says');
  await fastForward(60_000);
  t.equal(teams.posts.length, 2);

  teams.failNext({ status: 502 });
  await open(app, 'ServiceDown3');
  await drain();
  // The flow's bucket (one call a minute here) throttles the retries too, until it refills.
  await fastForward(180_000, 10_000);
  t.equal(teams.posts.length, 3, 'after the 502, once');
  t.equal(teams.requests.filter((r) => r.status === 502).length, 1);
});

t.test('a refused card or a wrong URL is final, and the timeline never shows the URL', async (t) => {
  const { app, teams, drain, fastForward, store, url } = await setup(t);
  teams.failNext({ status: 401, body: '{"error":{"code":"DirectApiInvalidAuthorizationSignature","message":"bad"}}' });
  const id = await open(app, 'ServiceDown');
  await drain();
  await fastForward(60_000, 10_000);
  const failed = (await store.getIncident(id))!.timeline.find((e) => e.kind === 'page_failed' && e.channel === 'teams');
  t.match(failed, { outcome: 'failed', reason: /^Teams HTTP 401: .*DirectApiInvalidAuthorizationSignature/ });
  t.equal(teams.requests.length, 1, 'not retried');
  const sig = new URL(url).searchParams.get('sig')!;
  const everything = JSON.stringify((await store.getIncident(id))!);
  t.notOk(everything.includes(sig), 'the signature is nowhere in the incident');
});

t.test('a room without its URL: the page fails at once, naming the variable', async (t) => {
  const triage = parseConfig(
    shippedConfigText().replace(
      'high:     { channels: ["#incidents"],',
      'high:     { channels: ["#incidents"], to: ["teams:night-shift"],',
    ),
    'triage.yml',
  );
  const teams = await new TeamsWorkflowsServer().start();
  t.teardown(() => teams.stop());
  const { app, drain, store } = await pagingApp(t, { triage }, {}, { teamsWebhookUrls: { OTHER: teams.workflowUrl('x') } });
  const id = await open(app, 'ServiceDown');
  await drain();
  t.match(
    (await store.getIncident(id))!.timeline.find((e) => e.kind === 'page_failed'),
    {
      outcome: 'failed',
      reason: 'Teams room "night-shift" has no webhook URL (TEAMS_WEBHOOK_URL_NIGHT_SHIFT unset)',
    },
  );
});

t.test('the validator the stand-in uses refuses what Teams would not render', async (t) => {
  t.match(validateAdaptiveCard({ type: 'AdaptiveCard', version: '1.4', body: [{ type: 'Table', columns: [], rows: [] }] }), [
    /UnknownElementType|ElementTypeNotAllowed|Table/,
  ]);
  t.match(validateAdaptiveCard({ type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: 'x', color: 'purple' }] }), [
    /InvalidPropertyValue.*purple/,
  ]);
  t.match(validateAdaptiveCard({ type: 'AdaptiveCard', version: '1.4', actions: [{ type: 'Action.OpenUrl', title: 'x' }] }), [
    /Action.OpenUrl requires "url"/,
  ]);
  t.match(validateAdaptiveCard({ type: 'AdaptiveCard', version: '1.6', body: [] }), [/newer than 1.4/]);
  // The card as built for a plain incident passes.
  const incident = {
    id: 7,
    title: 'ServiceDown',
    severity: 'high',
    status: 'open',
    slaBreached: false,
    rule: 'service-down',
    respondBy: 0,
    alerts: [],
    team: null,
  } as unknown as Parameters<typeof incidentCard>[0];
  const page = { event: 'opened', cause: null, mentions: [] } as unknown as Parameters<typeof incidentCard>[1];
  t.same(validateAdaptiveCard(incidentCard(incident, page, { url: undefined, steps: ['one'], time: String })), []);
});
