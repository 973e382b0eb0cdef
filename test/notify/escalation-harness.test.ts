// The escalation of one Critical, run by fast-forwarding the clock, with every message declared:
// anything sent that the test does not expect fails it at teardown (GoAlert's smoke-harness style).
import t from 'tap';
import { alert, api, payload, postWebhook, uniqueGroup } from '../helpers.js';
import { pagingApp } from './paging-helpers.js';

const MIN = 60_000;

t.test(
  'a Critical nobody acknowledges: announced, breached, escalated twice, reminded; an ack ends it; nothing else is sent',
  async (t) => {
    const { app, expect, fastForward, settle } = await pagingApp(t);
    const id = (await postWebhook(app, payload(uniqueGroup(), [alert('DDoSAttack')]))).json().incident.id as number;
    await fastForward(0);
    expect.slack('#security-incident', /DDoSAttack/);
    expect.email(['dan@example.com', 'alice@example.com', 'bob@example.com'], /\[CRITICAL\] DDoSAttack/); // the on-call, the Security Lead, the CTO

    await fastForward(5 * MIN, MIN);
    await settle(); // Slack's pace: the messages of one step go 1.1 s apart
    expect.slack('#security-incident', /Response deadline missed/);
    expect.slack('#security-incident', /Escalated \(step 1 of 2/);
    // The step's Security Lead and CTO, and whoever is on call then (the route pages the on-call).
    expect.email(['alice@example.com', 'bob@example.com', 'dan@example.com'], /\[CRITICAL\] DDoSAttack/);

    await fastForward(10 * MIN, MIN);
    await settle(); // Slack's pace: the messages of one step go 1.1 s apart
    expect.slack('#security-incident', /Escalated \(step 2 of 2/);
    expect.email(['bob@example.com', 'carol@example.com', 'dan@example.com'], /\[CRITICAL\] DDoSAttack/);

    await fastForward(5 * MIN, MIN);
    await settle(); // Slack's pace: the messages of one step go 1.1 s apart
    expect.slack('#security-incident', /Reminder 1 of 12/);
    expect.email(['dan@example.com', 'alice@example.com', 'bob@example.com', 'carol@example.com'], /\[CRITICAL\] DDoSAttack/); // everyone paged so far

    t.equal((await api(app, 'POST', `/api/incidents/${id}/ack`, { by: 'Alice Martin' })).status, 200);
    await fastForward(60 * MIN, 5 * MIN);
    await settle();
    expect.slack('#security-incident', /Acknowledged by Alice Martin/);
    expect.nothingElse();
  },
);
