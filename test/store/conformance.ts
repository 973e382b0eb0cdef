import type { Test } from 'tap';
import { toLabels } from '../../src/classify/labels.js';
import { acknowledge, addNote, markStep, resolve, saveReview, sweepBreach } from '../../src/incidents/incident-machine.js';
import { postStatusUpdate } from '../../src/incidents/status-page.js';
import type { GroupNotification, Incident, IncomingAlert } from '../../src/incidents/model.js';
import type { IncidentStore, NotificationDecider } from '../../src/store/store.js';
import type { NewNotice } from '../../src/outbox/page.js';
import { decider, groupNotification, incomingAlert, T0 } from '../helpers.js';

const MIN = 60_000;
const incoming = incomingAlert;
const group = (key: string, alerts: IncomingAlert[]) => groupNotification(alerts, { groupKey: key });
const decide = decider;
/** The committed change of one notification, null when nothing changed. */
const apply = async (store: IncidentStore, n: GroupNotification, d: NotificationDecider) => (await store.applyNotification(n, d)).change;
/** The dispatcher these tests play, and its lease from `now`. */
const ME = 'replica-a';
const LEASE_MS = 30_000;
const lease = (now: number, owner = ME) => ({ owner, until: now + LEASE_MS });
/** Every field of an incident, to compare incidents field by field. */
const INCIDENT_FIELDS = [
  'id',
  'key',
  'receiver',
  'groupKey',
  'groupLabels',
  'externalUrl',
  'source',
  'title',
  'severity',
  'rule',
  'team',
  'status',
  'openedAt',
  'respondBy',
  'acknowledgedAt',
  'acknowledgedBy',
  'resolvedAt',
  'resolvedBy',
  'slaBreached',
  'breachedAt',
  'escalationStep',
  'reminders',
  'nextEscalationAt',
] as const satisfies readonly (keyof Incident)[];
// A field of Incident missing from INCIDENT_FIELDS fails to compile here, by name.
void ({} satisfies Record<Exclude<keyof Incident, (typeof INCIDENT_FIELDS)[number]>, never>);

/**
 * The behaviour every IncidentStore must have. Each store's test file calls this with a factory
 * that gives a fresh, empty store (and closes it at teardown).
 */
export function storeConformance(t: Test, makeStore: (t: Test) => Promise<IncidentStore>) {
  t.test('opens, reads back with alerts and timeline, and assigns ids', async (t) => {
    const store = await makeStore(t);
    const c = await apply(store, group('g1', [incoming('a', 'ServiceDown'), incoming('b', 'SlowAPI')]), decide(T0));
    t.ok(c && c.incident.id > 0, 'has an id');
    const got = (await store.getIncident(c!.incident.id))!;
    t.equal(got.status, 'open');
    t.equal(got.severity, 'high');
    t.equal(got.openedAt, T0);
    t.same(got.groupLabels, { alertname: 'X' });
    t.same(
      got.alerts.map((a) => [a.fingerprint, a.status, a.severity]),
      [
        ['a', 'firing', 'high'],
        ['b', 'firing', 'low'],
      ],
    );
    t.same(got.alerts[0]!.annotations, { summary: 'ServiceDown on a' });
    t.same(
      got.timeline.map((e) => e.kind),
      ['opened'],
    );
    t.equal(await store.getIncident(c!.incident.id + 1000), undefined);
  });

  t.test('a notification that changes nothing writes nothing', async (t) => {
    const store = await makeStore(t);
    const n = group('g1', [incoming('a', 'ServiceDown')]);
    const first = await apply(store, n, decide(T0));
    t.equal(await apply(store, n, decide(T0 + MIN)), null);
    t.equal((await store.getIncident(first!.incident.id))!.timeline.length, 1);
    t.equal((await store.listIncidents({ limit: 10 })).length, 1);
  });

  t.test('a notification that changes nothing still names the incident it concerns', async (t) => {
    const store = await makeStore(t);
    const firing = group('g1', [incoming('a', 'ServiceDown')]);
    t.same(
      await store.applyNotification(group('g1', [incoming('a', 'ServiceDown', 'resolved')]), decide(T0)),
      { change: null, incident: null },
      'a group never seen',
    );
    const opened = await store.applyNotification(firing, decide(T0));
    t.match(opened, {
      change: { incident: { id: Number } },
      incident: { id: opened.change!.incident.id, status: 'open', severity: 'high' },
    });
    const id = opened.change!.incident.id;
    t.match(
      await store.applyNotification(firing, decide(T0 + MIN)),
      { change: null, incident: { id, status: 'open', severity: 'high' } },
      'a re-delivery: the active incident',
    );
    const resolved = group('g1', [incoming('a', 'ServiceDown', 'resolved')]);
    t.match(await store.applyNotification(resolved, decide(T0 + 2 * MIN)), {
      change: { incident: { id, status: 'resolved' } },
      incident: { id, status: 'resolved' },
    });
    t.match(
      await store.applyNotification(resolved, decide(T0 + 3 * MIN)),
      { change: null, incident: { id, status: 'resolved' } },
      'a resolved re-delivery: the last resolved one',
    );
    t.match(
      await store.applyNotification(firing, decide(T0 + 4 * MIN)),
      { change: null, incident: { id, status: 'resolved' } },
      'a late firing re-delivery: the last resolved one',
    );
  });

  t.test('an incident is read whole or a window of its alerts at a time, in start order, with the count', async (t) => {
    const store = await makeStore(t);
    const alerts = Array.from({ length: 7 }, (_, i) => incoming(`fp${i}`, 'ServiceDown', 'firing', T0 - (7 - i) * MIN));
    const id = (await apply(store, group('big', alerts), decide(T0)))!.incident.id;
    const whole = (await store.getIncident(id))!;
    t.equal(whole.alertCount, 7);
    t.same(
      whole.alerts.map((a) => a.fingerprint),
      ['fp0', 'fp1', 'fp2', 'fp3', 'fp4', 'fp5', 'fp6'],
    );
    const first = (await store.getIncident(id, { offset: 0, limit: 3 }))!;
    t.equal(first.alertCount, 7);
    t.same(
      first.alerts.map((a) => a.fingerprint),
      ['fp0', 'fp1', 'fp2'],
    );
    t.same(
      (await store.getIncident(id, { offset: 3, limit: 3 }))!.alerts.map((a) => a.fingerprint),
      ['fp3', 'fp4', 'fp5'],
    );
    t.same(
      (await store.getIncident(id, { offset: 6, limit: 3 }))!.alerts.map((a) => a.fingerprint),
      ['fp6'],
    );
    t.same((await store.getIncident(id, { offset: 70, limit: 3 }))!.alerts, []);
    t.same(
      first.timeline.map((e) => e.kind),
      ['opened'],
      'the timeline comes along',
    );
  });

  t.test('one active incident per key; a resolved one is offered as previous', async (t) => {
    const store = await makeStore(t);
    const a = await apply(store, group('g1', [incoming('a', 'ServiceDown')]), decide(T0));
    const b = await apply(store, group('g1', [incoming('b', 'ServiceDown')]), decide(T0 + MIN));
    t.equal(b!.incident.id, a!.incident.id, 'the second notification joins the active incident');
    await apply(
      store,
      group('g1', [incoming('a', 'ServiceDown', 'resolved'), incoming('b', 'ServiceDown', 'resolved')]),
      decide(T0 + 2 * MIN),
    );
    // A late re-delivery of the old firing alert is recognised through `previous`.
    t.equal(await apply(store, group('g1', [incoming('a', 'ServiceDown')]), decide(T0 + 3 * MIN)), null);
    const again = await apply(store, group('g1', [incoming('a', 'ServiceDown', 'firing', T0 + 3 * MIN)]), decide(T0 + 4 * MIN));
    t.not(again!.incident.id, a!.incident.id, 'a new incident after resolution');
    t.equal((await store.getIncident(a!.incident.id))!.status, 'resolved');
  });

  t.test('a decision that throws leaves nothing behind', async (t) => {
    const store = await makeStore(t);
    await t.rejects(
      apply(store, group('g1', [incoming('a', 'ServiceDown')]), () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    t.same(await store.listIncidents({ limit: 10 }), []);
    const c = await apply(store, group('g1', [incoming('a', 'ServiceDown')]), decide(T0));
    await t.rejects(
      store.updateIncident(c!.incident.id, (i) => acknowledge({ ...i, status: 'resolved' }, { name: 'x', via: 'api' }, undefined, T0)),
      { name: 'TransitionConflict' },
    );
    t.equal((await store.getIncident(c!.incident.id))!.status, 'open');
  });

  t.test(
    'notifications arriving together (a group commit): each group once, repeats in turn, a throwing decision fails alone',
    async (t) => {
      const store = await makeStore(t);
      // 30 groups, each notified twice at once (as two Alertmanagers of a pair do), the second with one
      // more alert; and one whose decision throws, among them.
      const first = Array.from({ length: 30 }, (_, i) => apply(store, group(`g${i}`, [incoming('a', 'ServiceDown')]), decide(T0)));
      const second = Array.from({ length: 30 }, (_, i) =>
        apply(store, group(`g${i}`, [incoming('a', 'ServiceDown'), incoming('b', 'SlowAPI')]), decide(T0 + MIN)),
      );
      const throwing = apply(store, group('boom', [incoming('a', 'ServiceDown')]), () => {
        throw new Error('boom');
      });
      const [opened, updated] = await Promise.all([Promise.all(first), Promise.all(second), t.rejects(throwing, /boom/)]);
      t.ok(
        opened.every((c) => c?.incident.id),
        'every first notification opened its group',
      );
      t.same(
        updated.map((c) => c?.incident.id),
        opened.map((c) => c!.incident.id),
        'every second one updated the incident the first opened',
      );
      const listed = await store.listIncidents({ limit: 100 });
      t.equal(listed.length, 30, 'one incident per group, none for the one that threw');
      const one = (await store.getIncident(opened[7]!.incident.id))!;
      t.same(
        one.alerts.map((a) => a.fingerprint),
        ['a', 'b'],
      );
    },
  );

  t.test('updateIncident applies and reports; unknown ids are undefined', async (t) => {
    const store = await makeStore(t);
    const c = await apply(store, group('g1', [incoming('a', 'ServiceDown')]), decide(T0));
    const id = c!.incident.id;
    const r = await store.updateIncident(id, (i) => acknowledge(i, { name: 'alice', via: 'api' }, 'looking', T0 + MIN));
    t.equal(r!.incident.status, 'acknowledged');
    t.ok(r!.change);
    const again = await store.updateIncident(id, (i) => acknowledge(i, { name: 'bob', via: 'api' }, undefined, T0 + 2 * MIN));
    t.equal(again!.change, null);
    t.equal(again!.incident.acknowledgedBy, 'alice');
    await store.updateIncident(id, (i) => resolve(i, { name: 'alice', via: 'api' }, undefined, T0 + 3 * MIN));
    const got = (await store.getIncident(id))!;
    t.same(
      got.timeline.map((e) => e.kind),
      ['opened', 'acknowledged', 'resolved'],
    );
    t.equal(got.acknowledgedAt, T0 + MIN);
    t.equal(got.resolvedAt, T0 + 3 * MIN);
    t.equal(await store.updateIncident(id + 1000, () => null), undefined);
  });

  t.test('a resolved notification after a manual resolve settles the alerts of the resolved incident', async (t) => {
    const store = await makeStore(t);
    const opened = await store.applyNotification(group('g', [incoming('a', 'ServiceDown')]), decide(T0));
    const id = opened.change!.incident.id;
    await store.updateIncident(id, (i) => resolve(i, { name: 'alice', via: 'api' }, undefined, T0 + MIN));
    const settled = await store.applyNotification(group('g', [incoming('a', 'ServiceDown', 'resolved')]), decide(T0 + 2 * MIN));
    t.equal(settled.change?.incident.id, id, 'the same incident, not a new one');
    const got = (await store.getIncident(id))!;
    t.match(got, { status: 'resolved', resolvedBy: 'alice', alerts: [{ status: 'resolved' }] });
    t.same(await store.listIncidents({ limit: 5 }).then((l) => l.length), 1);
  });

  t.test('sweeps take at most `limit` incidents, earliest deadline first', async (t) => {
    const store = await makeStore(t);
    const first = await store.applyNotification(group('a', [incoming('a', 'DDoSAttack')]), decide(T0));
    await store.applyNotification(group('b', [incoming('a', 'DDoSAttack')]), decide(T0 + MIN));
    const now = T0 + 10 * MIN;
    const one = await store.sweepOverdue(now, (i) => sweepBreach(i, now), 1);
    t.same(
      one.map((c) => c.incident.id),
      [first.change!.incident.id],
    );
    t.equal((await store.sweepOverdue(now, (i) => sweepBreach(i, now), 1)).length, 1, 'the next chunk takes the other');
    t.same(await store.sweepOverdue(now, (i) => sweepBreach(i, now), 1), []);
  });

  t.test('sweepOverdue picks only open, unbreached incidents past their deadline', async (t) => {
    const store = await makeStore(t);
    const crit = await apply(store, group('crit', [incoming('a', 'DDoSAttack')]), decide(T0)); // 5m
    const high = await apply(store, group('high', [incoming('a', 'ServiceDown')]), decide(T0)); // 1h
    const acked = await apply(store, group('acked', [incoming('a', 'DDoSAttack')]), decide(T0));
    await store.updateIncident(acked!.incident.id, (i) => acknowledge(i, { name: 'alice', via: 'api' }, undefined, T0 + MIN));
    const now = T0 + 10 * MIN;
    const swept = await store.sweepOverdue(now, (i) => sweepBreach(i, now));
    t.same(
      swept.map((c) => c.incident.id),
      [crit!.incident.id],
    );
    t.same(await store.sweepOverdue(now, (i) => sweepBreach(i, now)), [], 'not twice');
    const got = (await store.getIncident(crit!.incident.id))!;
    t.equal(got.slaBreached, true);
    t.same(
      got.timeline.map((e) => e.kind),
      ['opened', 'sla_breached'],
    );
    t.equal((await store.getIncident(high!.incident.id))!.slaBreached, false);
  });

  t.test('keeps notes, checklist ticks and reviews as timeline entries, after resolution too', async (t) => {
    const store = await makeStore(t);
    const id = (await apply(store, group('n', [incoming('x', 'DDoSAttack')]), decide(T0)))!.incident.id;
    const carol = { name: 'Carol Diaz', contact: 'carol', via: 'web' } as const;
    await store.updateIncident(id, (i) => resolve(i, carol, undefined, T0 + MIN));
    await store.updateIncident(id, (i) => addNote(i, carol, 'logs saved to /tmp', T0 + 2 * MIN));
    await store.updateIncident(id, (i) => markStep(i, carol, 'PRESERVE: save all logs', 'done', undefined, T0 + 3 * MIN));
    await store.updateIncident(id, (i) =>
      saveReview(i, carol, { rootCause: 'expired cert', impact: 'none', prevention: 'alert on expiry' }, null, T0 + 4 * MIN),
    );
    const got = (await store.getIncident(id))!;
    t.equal(got.status, 'resolved', 'the incident itself is unchanged');
    t.same(
      got.timeline.slice(-3).map((e) => [e.kind, e.actor, e.at]),
      [
        ['note', 'carol', T0 + 2 * MIN],
        ['checklist', 'carol', T0 + 3 * MIN],
        ['review', 'carol', T0 + 4 * MIN],
      ],
    );
    t.match(got.timeline.at(-1), { rootCause: 'expired cert', impact: 'none', prevention: 'alert on expiry' });
    t.match(got.timeline.at(-2), { step: 'PRESERVE: save all logs', state: 'done' });
  });

  t.test('the timeline is read a page at a time, newest first, by a cursor; the whole of it only on purpose', async (t) => {
    const store = await makeStore(t);
    const id = (await apply(store, group('long', [incoming('x', 'DDoSAttack')]), decide(T0)))!.incident.id;
    const carol = { name: 'Carol Diaz', contact: 'carol', via: 'web' } as const;
    // Two entries at one instant: the row id orders them, and the cursor must not lose either.
    for (let n = 1; n <= 24; n++) await store.updateIncident(id, (i) => addNote(i, carol, `note ${n}`, T0 + Math.ceil(n / 2) * MIN));
    await store.updateIncident(id, (i) => acknowledge(i, carol, undefined, T0 + 13 * MIN));
    const all = (await store.getIncident(id))!.timeline;
    t.ok(all.length > 25 && all.length <= 30);
    t.equal(await store.timelineCount(id), all.length);

    const newest = await store.timelinePage(id, { limit: 10 });
    t.same(newest.entries, all.slice(-10), 'the newest ten, in time order');
    t.ok(newest.older, 'a cursor to the older ones');
    const pages = [newest.entries];
    for (let older = newest.older; older;) {
      const page = await store.timelinePage(id, { before: older, limit: 10 });
      t.ok(page.entries.length <= 10);
      pages.unshift(page.entries);
      older = page.older;
    }
    t.equal(pages.length, 3);
    t.same(pages.flat(), all, 'every entry once, in order, when the cursors are followed');
    t.same(await store.timelinePage(id, { limit: all.length }), { entries: all, older: null }, 'no cursor when nothing is older');

    const notes = await store.timelinePage(id, { limit: 5, kinds: ['note'] });
    t.same(
      notes.entries.map((e) => (e.kind === 'note' ? e.text : e.kind)),
      ['note 20', 'note 21', 'note 22', 'note 23', 'note 24'],
      'of some kinds only',
    );
    const olderNotes = await store.timelinePage(id, { limit: 30, kinds: ['note'], before: notes.older! });
    t.equal(olderNotes.entries.length, 19);
    t.equal(olderNotes.older, null);
    t.same((await store.timelinePage(id, { limit: 1, kinds: ['review'] })).entries, [], 'a kind never written: nothing');

    t.same(await store.timelineHead(id, 2), all.slice(0, 2), 'the oldest entries');
    t.same(await store.timelinePage(id + 1000, { limit: 10 }), { entries: [], older: null });
  });

  t.test('the version moves on with every committed change and only then; the head reads no timeline', async (t) => {
    const store = await makeStore(t);
    const n = group('versioned', [incoming('x', 'DDoSAttack')]);
    const id = (await apply(store, n, decide(T0)))!.incident.id;
    const carol = { name: 'Carol Diaz', contact: 'carol', via: 'web' } as const;
    const versions = [(await store.incidentVersion(id))!];
    const moved = async (what: string) => {
      const v = (await store.incidentVersion(id))!;
      t.ok(v > versions.at(-1)!, `${what} moves the version on`);
      versions.push(v);
    };
    await store.applyNotification(n, decide(T0 + MIN));
    t.equal(await store.incidentVersion(id), versions[0], 'a re-delivery that changes nothing leaves it');
    await apply(store, group('versioned', [incoming('y', 'SlowAPI')]), decide(T0 + MIN));
    await moved('a new alert');
    await store.updateIncident(id, (i) => addNote(i, carol, 'looking', T0 + 2 * MIN));
    await moved('a note');
    await store.updateIncident(id, (i) => markStep(i, carol, 'STOP', 'done', undefined, T0 + 3 * MIN));
    await moved('a tick');
    await store.updateIncident(id, () => null);
    t.equal(await store.incidentVersion(id), versions.at(-1), 'a decision that changes nothing leaves it');

    await store.updateIncident(id, (i) => ({
      ...addNote(i, carol, 'paging', T0 + 4 * MIN),
      pages: [
        { channel: 'slack', target: '#sec', event: 'opened', severity: 'critical', mentions: [], recipients: [], cause: null, at: T0 },
      ],
    }));
    await moved('a change with a page');
    const [page] = await store.claimPages(T0 + 4 * MIN, 10, lease(T0 + 4 * MIN));
    await store.completePage(page!.id, { status: 'sent', externalRef: 'C1:1.0', timeline: [] }, T0 + 4 * MIN, ME);
    await moved("a page's outcome");

    const head = (await store.incidentHead(id, { offset: 0, limit: 1 }))!;
    t.equal(head.version, versions.at(-1));
    t.equal(head.alertCount, 2);
    t.same(
      head.alerts.map((a) => a.fingerprint),
      ['x'],
    );
    t.notOk('timeline' in head, 'no timeline');
    const row = (await store.incident(id))!;
    t.equal(row.version, head.version);
    t.equal(row.title, head.title);
    t.notOk('alerts' in row || 'timeline' in row, 'the row alone');
    t.equal(await store.incident(id + 1000), undefined);
    t.equal(await store.incidentVersion(id + 1000), undefined);
    t.equal(await store.incidentHead(id + 1000, { offset: 0, limit: 1 }), undefined);
  });

  t.test("each checklist step's latest mark is kept as it is written, one row a step", async (t) => {
    const store = await makeStore(t);
    const id = (await apply(store, group('steps', [incoming('x', 'DDoSAttack')]), decide(T0)))!.incident.id;
    const carol = { name: 'Carol Diaz', contact: 'carol', via: 'web' } as const;
    const lee = { name: 'Lee', via: 'api' } as const;
    t.same(await store.checklistState(id), new Map());
    await store.updateIncident(id, (i) => markStep(i, carol, 'STOP', 'done', undefined, T0 + MIN));
    await store.updateIncident(id, (i) => markStep(i, carol, 'PRESERVE', 'done', undefined, T0 + 2 * MIN));
    await store.updateIncident(id, (i) => markStep(i, lee, 'STOP', 'problem', 'the switch is remote', T0 + 3 * MIN));
    await store.updateIncident(id, (i) => markStep(i, carol, 'PRESERVE', 'undone', undefined, T0 + 4 * MIN));
    t.same(
      await store.checklistState(id),
      new Map([
        ['STOP', { state: 'problem', actor: 'Lee', at: T0 + 3 * MIN, note: 'the switch is remote' }],
        ['PRESERVE', { state: 'undone', actor: 'carol', at: T0 + 4 * MIN }],
      ]),
    );
    t.equal((await store.timelinePage(id, { limit: 10, kinds: ['checklist'] })).entries.length, 4, 'every mark stays in the timeline');
    t.same(await store.checklistState(id + 1000), new Map());
  });

  t.test('the alerts summarised: counts, the earliest start, the most frequent names', async (t) => {
    const store = await makeStore(t);
    const alerts = [
      ...Array.from({ length: 5 }, (_, n) => incoming(`d${n}`, 'DiskFull', 'firing', T0 - (n + 1) * MIN)),
      ...Array.from({ length: 3 }, (_, n) => incoming(`s${n}`, 'SlowAPI', n === 0 ? 'resolved' : 'firing')),
      incoming('c', 'CpuHigh'),
    ];
    const id = (await apply(store, group('summary', alerts), decide(T0)))!.incident.id;
    t.same(await store.alertSummary(id, 2), {
      count: 9,
      firing: alerts.filter((a) => a.status === 'firing').length,
      earliestStart: T0 - 5 * MIN,
      byName: [
        { alertname: 'DiskFull', count: 5, firing: 5 },
        {
          alertname: 'SlowAPI',
          count: 3,
          firing: alerts.filter((a) => a.labels['alertname'] === 'SlowAPI' && a.status === 'firing').length,
        },
      ],
    });
  });

  t.test('lists newest first with filters and a limit; counts by severity', async (t) => {
    const store = await makeStore(t);
    const ids: number[] = [];
    for (const [key, name] of [
      ['a', 'DDoSAttack'],
      ['b', 'ServiceDown'],
      ['c', 'ServiceDown'],
      ['d', 'SlowAPI'],
    ] as const) {
      ids.push((await apply(store, group(key, [incoming('x', name)]), decide(T0)))!.incident.id);
    }
    await store.updateIncident(ids[2]!, (i) => resolve(i, { name: 'alice', via: 'api' }, undefined, T0 + MIN));
    await store.updateIncident(ids[1]!, (i) => acknowledge(i, { name: 'alice', via: 'api' }, undefined, T0 + MIN));
    t.same(
      (await store.listIncidents({ limit: 10 })).map((i) => i.id),
      [...ids].reverse(),
    );
    t.same(
      (await store.listIncidents({ limit: 2 })).map((i) => i.id),
      [ids[3], ids[2]],
    );
    t.same(
      (await store.listIncidents({ limit: 2, offset: 2 })).map((i) => i.id),
      [ids[1], ids[0]],
      'the next page',
    );
    t.same(
      (await store.listIncidents({ limit: 2, offset: 4 })).map((i) => i.id),
      [],
      'past the end',
    );
    t.same(
      (await store.listIncidents({ limit: 1, offset: 1, severity: 'high' })).map((i) => i.id),
      [ids[1]],
      'a page of a filtered list',
    );
    t.same(
      (await store.listIncidents({ limit: 10, severity: 'high' })).map((i) => i.id),
      [ids[2], ids[1]],
    );
    t.same(
      (await store.listIncidents({ limit: 10, status: 'open' })).map((i) => i.id),
      [ids[3], ids[0]],
    );
    t.same(
      (await store.listIncidents({ limit: 10, status: 'resolved', severity: 'high' })).map((i) => i.id),
      [ids[2]],
    );

    const counts = await store.counts(T0 + 10 * MIN);
    t.same(counts.open, { critical: 1, high: 1, medium: 0, low: 1 });
    // Only the critical one is past its deadline without an acknowledgement.
    t.same(counts.breachedOpen, { critical: 1, high: 0, medium: 0, low: 0 });
  });

  t.test('every incident field is stored at opening and by an update, and every read gives it back alike', async (t) => {
    const store = await makeStore(t);
    const fieldsOf = (i: Incident): Incident =>
      Object.fromEntries(INCIDENT_FIELDS.map((k) => [k, k === 'groupLabels' ? { ...i[k] } : i[k]])) as unknown as Incident;
    /** The incident as getIncident, getIncidents, listIncidents, the sweeps and the deciders of updateIncident and applyNotification see it. */
    const reads = async (id: number, now: number) => {
      const seen: Incident[] = [
        fieldsOf((await store.getIncident(id))!),
        fieldsOf((await store.getIncidents([id])).get(id)!),
        fieldsOf((await store.listIncidents({ limit: 1 }))[0]!),
      ];
      await store.updateIncident(id, (i) => (seen.push(fieldsOf(i)), null));
      await store.applyNotification(n, (active, previous) => (seen.push(fieldsOf((active ?? previous)!.incident)), null));
      const swept = async (sweep: 'sweepOverdue' | 'sweepEscalations') => (
        await store[sweep](now, (i) => (seen.push(fieldsOf(i)), null)),
        undefined
      );
      await swept('sweepOverdue');
      await swept('sweepEscalations');
      return seen;
    };
    const n = group('every', [incoming('a', 'ServiceDown')]);
    // Every field away from what decide() would pick, and apart from the others, so that a column
    // written from another field, or not written, shows.
    const opening = {
      title: 'first title',
      externalUrl: 'http://am/1',
      source: 'grafana' as const,
      team: 'payments',
      respondBy: T0 + 5 * MIN,
      escalationStep: 1,
      reminders: 2,
      nextEscalationAt: T0 + 6 * MIN,
      acknowledgedBy: null,
      resolvedBy: null,
      breachedAt: null,
      slaBreached: false,
    };
    const opened = await apply(store, n, (a, p, n) => {
      const c = decide(T0)(a, p, n)!;
      return { ...c, incident: { ...c.incident, ...opening } };
    });
    const id = opened!.incident.id;
    const first = fieldsOf({ ...opened!.incident });
    t.match(first, { id, key: String, receiver: String, groupKey: 'every', openedAt: T0, severity: 'high', status: 'open', ...opening });
    const firstReads = await reads(id, T0 + 6 * MIN);
    t.same(
      firstReads,
      Array.from({ length: 7 }, () => first),
      'as opened, by every read',
    );

    const changed = {
      title: 'second title',
      severity: 'critical',
      rule: 'second-rule',
      status: 'resolved',
      respondBy: T0 + 7 * MIN,
      acknowledgedAt: T0 + 8 * MIN,
      acknowledgedBy: 'ann',
      resolvedAt: T0 + 9 * MIN,
      resolvedBy: 'bob',
      slaBreached: true,
      breachedAt: T0 + 10 * MIN,
      escalationStep: 3,
      reminders: 4,
      nextEscalationAt: null,
    } as const;
    // The fields written when the incident opens are never rewritten, whatever a decision says.
    const once = {
      key: 'other key',
      receiver: 'other',
      groupKey: 'other',
      groupLabels: toLabels({ other: 'y' }),
      externalUrl: 'http://other',
      source: 'other' as const,
      openedAt: T0 - MIN,
      team: 'other',
    };
    await store.updateIncident(id, (i) => ({ incident: { ...i, ...changed, ...once }, alerts: [], timeline: [] }));
    const second = { ...first, ...changed };
    const secondReads = await reads(id, T0 + 60 * MIN);
    t.same(
      secondReads,
      Array.from({ length: 5 }, () => second),
      'as updated, by every read (a resolved incident is swept by neither sweep)',
    );
  });

  t.test("the outbox's read of many incidents at once gives each as getIncident does, and leaves out an id with none", async (t) => {
    const store = await makeStore(t);
    const a = await apply(store, group('many-a', [incoming('a1', 'ServiceDown'), incoming('a2', 'DiskFull')]), decide(T0));
    const b = await apply(store, group('many-b', [incoming('b1', 'HighLatency')]), decide(T0 + MIN));
    await store.updateIncident(a!.incident.id, (i) => acknowledge(i, { name: 'ann', via: 'api' }, 'on it', T0 + 2 * MIN));
    const ids = [a!.incident.id, b!.incident.id];
    const many = await store.getIncidents([...ids, 999_999]);
    t.same([...many.keys()].sort(), [...ids].sort(), 'both, and nothing for an id with no incident');
    for (const id of ids) {
      const { alertCount: _count, ...one } = (await store.getIncident(id))!;
      // alertCount is getIncident's; the outbox counts the alerts it reads.
      const { alertCount: _also, ...got } = many.get(id)! as typeof many extends Map<number, infer I> ? I & { alertCount?: number } : never;
      t.same(got, one, `incident ${id}: fields, alerts and timeline`);
    }
    t.same(
      many.get(a!.incident.id)!.alerts.map((x) => x.fingerprint),
      ['a1', 'a2'],
    );
    t.match(many.get(a!.incident.id)!.timeline.at(-1), { kind: 'acknowledged', by: 'ann' });
    t.same(await store.getIncidents([]), new Map(), 'none asked, none read');
  });

  t.test('label maps come back without a prototype', async (t) => {
    const store = await makeStore(t);
    const c = await apply(store, group('g1', [incoming('a', 'ServiceDown')]), decide(T0));
    const got = (await store.getIncident(c!.incident.id))!;
    t.equal(Object.getPrototypeOf(got.alerts[0]!.labels), null);
    t.equal(Object.getPrototypeOf(got.groupLabels), null);
  });

  t.test("an alert's links and values (Grafana's) are stored and read back; an alert without them has none", async (t) => {
    const store = await makeStore(t);
    const links = {
      silenceUrl: 'https://grafana.example/alerting/silence/new?matcher=a%3Db',
      dashboardUrl: 'https://grafana.example/d/x',
      panelUrl: 'https://grafana.example/d/x?viewPanel=2',
      values: { A: 2.5, B: null },
    };
    const n = group('links', [{ ...incoming('a', 'ServiceDown'), links }, incoming('b', 'ServiceDown')]);
    const c = await apply(store, { ...n, source: 'grafana' }, decide(T0));
    const got = (await store.getIncident(c!.incident.id))!;
    t.equal(got.source, 'grafana');
    const byFp = new Map(got.alerts.map((a) => [a.fingerprint, a]));
    t.same(byFp.get('a')!.links, links);
    t.notOk('links' in byFp.get('b')!, 'no links: no field');
    // A later notification without links replaces them: the alert is as last sent.
    await apply(store, group('links', [{ ...incoming('a', 'ServiceDown', 'firing', T0) }]), decide(T0 + MIN));
    t.notOk('links' in (await store.getIncident(c!.incident.id))!.alerts.find((a) => a.fingerprint === 'a')!);
  });

  t.test('heartbeats: a beat moves the deadline and says the one before; expected ones keep theirs', async (t) => {
    const store = await makeStore(t);
    t.equal(await store.beat('watchdog', 'am', T0, 5 * MIN), undefined, 'unknown before its first beat');
    t.equal(await store.beat('watchdog', 'am', T0 + MIN, 5 * MIN), T0 + 5 * MIN);
    await store.expectHeartbeats([
      { kind: 'watchdog', name: 'am', deadline: T0 + 99 * MIN },
      { kind: 'monitor', name: 'am', deadline: T0 + 60 * MIN },
    ]);
    t.same(await store.listHeartbeats(), [
      { kind: 'monitor', name: 'am', lastBeatAt: null, deadline: T0 + 60 * MIN },
      { kind: 'watchdog', name: 'am', lastBeatAt: T0 + MIN, deadline: T0 + 6 * MIN },
    ]);
  });

  t.test('status page: public updates are read across incidents, with their pages to subscribers in the outbox', async (t) => {
    const store = await makeStore(t);
    const carol = { name: 'Carol Diaz', contact: 'carol', via: 'web' } as const;
    const a = (await apply(store, group('p1', [incoming('a', 'ServiceDown')]), decide(T0)))!.incident.id;
    const b = (await apply(store, group('p2', [incoming('b', 'ServiceDown')]), decide(T0)))!.incident.id;
    const update = {
      state: 'investigating',
      title: 'API errors',
      message: 'Looking into it.',
      components: [{ id: 'api', status: 'major_outage' }],
    } as const;
    await store.updateIncident(a, (i) =>
      postStatusUpdate(
        i,
        carol,
        { ...update, components: [...update.components] },
        {
          recipients: [
            { id: 7, components: null },
            { id: 8, components: ['web'] },
          ],
          updatedStep: 'Status page updated',
          notify: true,
        },
        T0 + MIN,
      ),
    );
    await store.updateIncident(a, (i) =>
      postStatusUpdate(
        i,
        carol,
        { state: 'resolved', title: 'API errors', message: 'Fixed.', components: [] },
        { recipients: [], updatedStep: null, notify: true },
        T0 + 2 * MIN,
      ),
    );
    await store.updateIncident(b, (i) => resolve(i, carol, undefined, T0 + 3 * MIN));
    t.same(
      (await store.statusUpdates(T0 + 3 * MIN, 100)).map((u) => u.state),
      ['investigating', 'resolved'],
      'an incident not resolved is read whenever it was updated',
    );
    await store.updateIncident(a, (i) => resolve(i, carol, undefined, T0 + 3 * MIN));
    t.same(
      (await store.statusUpdates(T0, 100)).map((u) => [u.incidentId, u.at, u.state, u.components]),
      [
        [a, T0 + MIN, 'investigating', [{ id: 'api', status: 'major_outage' }]],
        [a, T0 + 2 * MIN, 'resolved', []],
      ],
      'the updates alone, oldest first, with nothing of the incident',
    );
    t.same(await store.statusUpdates(T0 + 3 * MIN, 100), [], 'an incident resolved before the window is left out');
    t.equal((await store.checklistState(a)).get('Status page updated')?.state, 'done', 'posting ticks the step');
    const pages = await store.claimPages(T0 + 10 * MIN, 10, lease(T0 + 10 * MIN));
    t.match(
      pages.filter((p) => p.channel === 'status-email'),
      [{ target: 'subscribers', event: 'status_update', subscriber: 7, severity: 'low', recipients: [] }],
      'one page for the subscriber of every component; none for the one of another component',
    );
  });

  t.test(
    'status page subscribers: each confirmation e-mail queued in the outbox with its request, bounded per address; confirmed once, unsubscribed, swept',
    async (t) => {
      const store = await makeStore(t);
      const ask = (email: string, at: number, confirmToken = `c-${email}-${at}`) =>
        store.subscribe({
          email,
          components: null,
          confirmToken,
          unsubscribeToken: `u-${email}`,
          at,
          minIntervalMs: 60 * MIN,
          maxMails: 2,
        });
      const confirmations = async (now: number) => {
        const pages = await store.claimPages(now, 10, lease(now));
        for (const p of pages) await store.completePage(p.id, { status: 'sent', externalRef: `m${p.id}`, timeline: [] }, now, ME);
        return pages;
      };
      t.equal(await ask('a@example.com', T0), 'queued');
      const a = (await store.listSubscribers())[0]!;
      t.match(a, { email: 'a@example.com', confirmToken: `c-a@example.com-${T0}`, confirmedAt: null, confirmSentAt: T0 });
      t.equal(await ask('a@example.com', T0 + 1), 'limited', 'not within the interval');
      const queued = await confirmations(T0 + 2);
      t.match(
        queued,
        [
          {
            incidentId: null,
            channel: 'status-email',
            target: 'confirmations',
            event: 'notice',
            severity: 'low',
            recipients: [],
            subscriber: a.id,
            notice: { kind: 'status_confirmation' },
            createdAt: T0,
          },
        ],
        'one notice, naming the subscriber only',
      );
      t.notMatch(JSON.stringify(queued), /a@example\.com|c-a@/, 'neither the address nor the link is copied into the outbox');
      t.same(await confirmations(T0 + 3), [], 'queued once');
      t.equal(await ask('a@example.com', T0 + 30 * MIN), 'limited', 'still within the interval');
      t.equal(await ask('a@example.com', T0 + 61 * MIN), 'queued');
      t.equal((await confirmations(T0 + 61 * MIN)).length, 1, 'the second confirmation');
      t.equal(await ask('a@example.com', T0 + 200 * MIN), 'limited', 'at most maxMails to one address');
      t.same(await confirmations(T0 + 200 * MIN), []);
      t.equal(await store.confirmSubscription('wrong', T0), false);
      t.equal(await store.confirmSubscription(`c-a@example.com-${T0}`, T0 + 300 * MIN), true, 'the link of every e-mail is the same');
      t.equal(await store.confirmSubscription(`c-a@example.com-${T0}`, T0 + 301 * MIN), false, 'a link confirms once');
      t.equal(await ask('a@example.com', T0 + 400 * MIN), 'subscribed');
      t.same(await confirmations(T0 + 400 * MIN), [], 'nothing for a confirmed address');
      t.equal(await ask('b@example.com', T0), 'queued');
      await store.subscribe({
        email: 'c@example.com',
        components: ['api'],
        confirmToken: 'cc',
        unsubscribeToken: 'uc',
        at: T0,
        minIntervalMs: 0,
        maxMails: 3,
      });
      await store.confirmSubscription('cc', T0);
      t.match(await store.subscriber(a.id), { email: 'a@example.com', confirmToken: null, confirmedAt: T0 + 300 * MIN });
      t.same(await store.confirmedSubscribers(), [
        { id: a.id, components: null },
        { id: (await store.listSubscribers()).find((s) => s.email === 'c@example.com')!.id, components: ['api'] },
      ]);
      t.equal(await store.sweepUnconfirmed(T0 + 1), 1, 'the unconfirmed one is swept');
      t.same(
        (await store.listSubscribers()).map((s) => s.email),
        ['a@example.com', 'c@example.com'],
      );
      t.equal(await store.unsubscribe('uc'), true);
      t.equal(await store.unsubscribe('uc'), false);
      t.equal(await store.deleteSubscriber('a@example.com'), true);
      t.same(await store.listSubscribers(), []);
      t.equal(await store.subscriber(a.id), undefined);
    },
  );

  t.test(
    'status page subscribe requests: counted per client for every replica, in a sliding window, in the transaction of the request; swept',
    async (t) => {
      const store = await makeStore(t);
      const rule = { max: 3, windowMs: 10 * MIN };
      let n = 0;
      /** A request from `client` for a new address: undefined when taken, else when the client may ask again. */
      const attempt = async (client: string, at: number, email = `r${++n}@example.com`) => {
        const outcome = await store.subscribe({
          email,
          components: null,
          confirmToken: `c${n}-${client}`,
          unsubscribeToken: `u${n}-${client}`,
          at,
          minIntervalMs: 0,
          maxMails: 3,
          client: { key: client, rule },
        });
        return typeof outcome === 'object' ? outcome.clientLimitedUntil : (t.equal(outcome, 'queued'), undefined);
      };
      t.equal(await attempt('client-a', T0), undefined);
      t.equal(await attempt('client-a', T0 + MIN), undefined);
      t.equal(await attempt('client-a', T0 + 2 * MIN), undefined);
      t.equal(await attempt('client-a', T0 + 3 * MIN, 'refused@example.com'), T0 + 10 * MIN, 'refused until the oldest leaves the window');
      t.notOk(
        (await store.listSubscribers()).some((s) => s.email === 'refused@example.com'),
        'a refused request writes no subscription',
      );
      t.equal(await attempt('client-b', T0 + 3 * MIN), undefined, 'another client is counted apart');
      t.equal(await attempt('client-a', T0 + 9 * MIN), T0 + 10 * MIN, 'a refused request is not counted');
      t.equal(await attempt('client-a', T0 + 10 * MIN), undefined, 'the oldest has left');
      t.equal(await attempt('client-a', T0 + 10 * MIN + 1), T0 + 11 * MIN);
      const many = await Promise.all(Array.from({ length: 8 }, () => attempt('client-c', T0)));
      t.equal(many.filter((w) => w === undefined).length, 3, 'requests at once: no more than the rule takes');
      const pages = await store.claimPages(T0 + 20 * MIN, 100, lease(T0 + 20 * MIN));
      t.equal(pages.length, 3 + 1 + 1 + 3, 'one confirmation e-mail per request taken, none for a refused one');
      t.equal(
        await store.sweepSubscribeAttempts(T0 + 3 * MIN),
        5,
        "client-c's three and client-a's two left (its first went as it left the window)",
      );
      t.equal(await store.sweepSubscribeAttempts(T0 + 30 * MIN), 2);
      t.equal(await attempt('client-a', T0 + 30 * MIN), undefined);
    },
  );

  t.test('silences made here: due when their incident resolves or they end soon; a notice and an expiry are claimed once', async (t) => {
    const store = await makeStore(t);
    const open = (await apply(store, group('s1', [incoming('a', 'ServiceDown')]), decide(T0)))!.incident.id;
    const other = (await apply(store, group('s2', [incoming('b', 'ServiceDown')]), decide(T0)))!.incident.id;
    const base = { createdBy: 'carol', untilResolved: false, keepAfterResolve: false };
    await store.addSilence({ ...base, silenceId: 'soon', incidentId: open, endsAt: T0 + 10 * MIN });
    await store.addSilence({ ...base, silenceId: 'later', incidentId: open, endsAt: T0 + 60 * MIN });
    await store.addSilence({ ...base, silenceId: 'until', incidentId: open, endsAt: T0 + 999 * MIN, untilResolved: true });
    await store.addSilence({ ...base, silenceId: 'kept', incidentId: other, endsAt: T0 + 60 * MIN, keepAfterResolve: true });
    await store.addSilence({ ...base, silenceId: 'goes', incidentId: other, endsAt: T0 + 60 * MIN });
    t.same(
      (await store.silencesDue(T0 + 15 * MIN)).map((s) => s.silenceId),
      ['soon'],
    );
    t.equal(await store.claimSilenceNotice('soon', T0), true);
    t.equal(await store.claimSilenceNotice('soon', T0 + 1), false, 'told once');
    t.same(await store.silencesDue(T0 + 15 * MIN), []);
    await store.updateIncident(other, (i) => ({
      incident: { ...i, status: 'resolved', resolvedAt: T0, resolvedBy: 'x' },
      alerts: [],
      timeline: [],
    }));
    t.same(
      (await store.silencesDue(T0 + 15 * MIN)).map((s) => [s.silenceId, s.incidentResolved]),
      [['goes', true]],
      "the resolved incident's silence, not the one kept on purpose",
    );
    t.equal(await store.markSilenceExpired('goes', T0 + 2), true);
    t.equal(await store.markSilenceExpired('goes', T0 + 3), false, 'expired once');
    t.match(await store.silencesOf(open), [
      { silenceId: 'soon', notifiedAt: T0, expiredAt: null, untilResolved: false },
      { silenceId: 'later', notifiedAt: null },
      { silenceId: 'until', untilResolved: true },
    ]);
    t.match(await store.silencesOf(other), [
      { silenceId: 'goes', expiredAt: T0 + 2 },
      { silenceId: 'kept', keepAfterResolve: true },
    ]);
  });

  t.test(
    'maintenance windows: kept with their matchers, silences and public text; listed by end, public ones alone; cancelled once',
    async (t) => {
      const store = await makeStore(t);
      const hostile = 'x"}<script>\u202e\\n';
      const base = {
        description: 'Internal: failover of db-1',
        matchers: [
          [
            { name: 'service', value: hostile, isRegex: false, isEqual: true },
            { name: 'env', value: 'prod|staging', isRegex: true, isEqual: false },
          ],
        ],
        createdBy: 'Carol Diaz',
        createdAt: T0,
        publicText: '',
        components: [] as string[],
      };
      const later = await store.addMaintenanceWindow({
        ...base,
        title: 'Later',
        startsAt: T0 + 120 * MIN,
        endsAt: T0 + 180 * MIN,
        silenceIds: ['s-2', 's-3'],
        public: true,
        publicText: 'Short interruptions of the API.',
        components: ['api', 'db'],
      });
      const soon = await store.addMaintenanceWindow({
        ...base,
        title: 'Soon',
        startsAt: T0 + 10 * MIN,
        endsAt: T0 + 70 * MIN,
        silenceIds: ['s-1'],
        public: false,
      });
      const past = await store.addMaintenanceWindow({
        ...base,
        title: 'Past',
        startsAt: T0 - 120 * MIN,
        endsAt: T0 - MIN,
        silenceIds: ['s-0'],
        public: true,
      });
      t.ok(later.id > 0 && soon.id > later.id && past.id > soon.id, 'ids grow');
      t.same(await store.getMaintenanceWindow(later.id), {
        ...base,
        id: later.id,
        title: 'Later',
        startsAt: T0 + 120 * MIN,
        endsAt: T0 + 180 * MIN,
        silenceIds: ['s-2', 's-3'],
        public: true,
        publicText: 'Short interruptions of the API.',
        components: ['api', 'db'],
        cancelledAt: null,
        cancelledBy: null,
      });
      t.equal((await store.getMaintenanceWindow(later.id))!.matchers[0]![0]!.value, hostile, 'a hostile value comes back as written');
      t.equal(await store.getMaintenanceWindow(999_999), undefined);
      t.same(
        (await store.maintenanceWindows({ endingAfter: T0, limit: 10 })).map((w) => w.title),
        ['Soon', 'Later'],
        'not the past one, the soonest start first',
      );
      t.same(
        (await store.maintenanceWindows({ endingAfter: T0 - 200 * MIN, limit: 2 })).map((w) => w.title),
        ['Past', 'Soon'],
        'at most the limit',
      );
      t.same(
        (await store.maintenanceWindows({ endingAfter: T0, limit: 10, publicOnly: true })).map((w) => w.title),
        ['Later'],
      );
      const cancelled = await store.cancelMaintenanceWindow(later.id, 'Dan', T0 + 5);
      t.match(cancelled, { id: later.id, cancelledAt: T0 + 5, cancelledBy: 'Dan' });
      t.equal(await store.cancelMaintenanceWindow(later.id, 'Eve', T0 + 6), undefined, 'cancelled once');
      t.match(await store.getMaintenanceWindow(later.id), { cancelledBy: 'Dan' });
      t.same(
        (await store.maintenanceWindows({ endingAfter: T0, limit: 10 })).map((w) => w.title),
        ['Soon'],
      );
      t.same(await store.maintenanceWindows({ endingAfter: T0, limit: 10, publicOnly: true }), []);
    },
  );

  t.test('the outbox: a busy target is not claimed; an unknown outcome keeps the page maybeSent; retrying pages are counted', async (t) => {
    const store = await makeStore(t);
    const page = (target: string) => ({
      channel: 'slack' as const,
      target,
      event: 'opened' as const,
      severity: 'high' as const,
      mentions: [],
      recipients: [],
      cause: null,
      at: T0,
    });
    await store.applyNotification(group('busy', [incoming('a', 'ServiceDown')]), (a, p, n) => ({
      ...decide(T0)(a, p, n)!,
      pages: [page('#a'), page('#b')],
    }));
    const first = await store.claimPages(T0, 10, lease(T0), ['slack\n#a']);
    t.same(
      first.map((p) => p.target),
      ['#b'],
      'the page to the busy target waits',
    );
    t.same(
      (await store.claimPages(T0, 10, lease(T0))).map((p) => p.target),
      ['#a'],
      'and is claimed once the target is free',
    );
    t.same(await store.retryingPages(), {});
    await store.completePage(
      first[0]!.id,
      { status: 'retry', nextAttemptAt: T0 + 1000, error: 'Slack unreachable: timed out', maybeSent: true },
      T0,
      ME,
    );
    t.same(await store.retryingPages(), { slack: 1 }, 'retrying from the first failure on');
    const retried = await store.claimPages(T0 + 1000, 10, lease(T0 + 1000));
    t.match(retried, [{ target: '#b', maybeSent: true, attempts: 2 }]);
    await store.completePage(
      retried[0]!.id,
      { status: 'retry', nextAttemptAt: T0 + 3000, error: 'Slack HTTP 500', maybeSent: false },
      T0 + 1000,
      ME,
    );
    t.match(
      await store.claimPages(T0 + 3000, 10, lease(T0 + 3000)),
      [{ maybeSent: true }],
      'once unknown, looked up before every later attempt',
    );
  });

  t.test('the outbox: pages written with the change, claimed most severe first, completed, recovered', async (t) => {
    const store = await makeStore(t);
    const page = (severity: 'critical' | 'low', target: string, notSent?: string) => ({
      channel: 'slack' as const,
      target,
      event: 'opened' as const,
      severity,
      mentions: ['U1'],
      recipients: [],
      cause: null,
      at: T0,
      ...(notSent ? { notSent } : {}),
    });
    const low = await apply(store, group('low', [incoming('a', 'SlowAPI')]), (a, p, n) => ({
      ...decide(T0)(a, p, n)!,
      pages: [page('low', '#alerts'), page('low', '#x', 'not configured')],
    }));
    const crit = await apply(store, group('crit', [incoming('a', 'DDoSAttack')]), (a, p, n) => ({
      ...decide(T0)(a, p, n)!,
      pages: [page('critical', '#sec')],
    }));
    t.same(await store.queueDepth(), { slack: 2 }, 'a page for an unconfigured channel is recorded as failed, not queued');

    const claimed = await store.claimPages(T0, 10, lease(T0));
    t.same(
      claimed.map((p) => [p.incidentId, p.target, p.status, p.attempts]),
      [
        [crit!.incident.id, '#sec', 'sending', 1],
        [low!.incident.id, '#alerts', 'sending', 1],
      ],
      'most severe first',
    );
    t.match(claimed[0], { mentions: ['U1'], maybeSent: false, createdAt: T0 });
    t.same(await store.claimPages(T0, 10, lease(T0)), [], 'claimed once');

    await store.completePage(
      claimed[0]!.id,
      {
        status: 'sent',
        externalRef: 'C1:1.0',
        timeline: [
          {
            at: T0,
            actor: 'system',
            kind: 'paged',
            channel: 'slack',
            target: '#sec',
            event: 'opened',
            recipients: ['U1'],
            outcome: 'sent',
          },
        ],
      },
      T0,
      ME,
    );
    await store.completePage(claimed[1]!.id, { status: 'retry', nextAttemptAt: T0 + 5000, error: 'Slack HTTP 500' }, T0, ME);
    t.same(await store.claimPages(T0 + 4999, 10, lease(T0 + 4999)), [], 'not before its next attempt');
    const again = await store.claimPages(T0 + 5000, 10, lease(T0 + 5000));
    t.same(
      again.map((p) => p.attempts),
      [2],
    );
    await store.completePage(again[0]!.id, { status: 'release', nextAttemptAt: T0 + 6000 }, T0 + 5000, ME);
    const third = await store.claimPages(T0 + 6000, 10, lease(T0 + 6000));
    t.same(
      third.map((p) => p.attempts),
      [2],
      'a release does not count as an attempt',
    );

    // The process dies now: the page stays "sending" until its lease runs out, and is recovered then.
    const expired = T0 + 6000 + LEASE_MS;
    t.equal(await store.recoverInFlight(expired), 1);
    const recovered = await store.claimPages(expired, 10, lease(expired));
    t.match(recovered, [{ maybeSent: true }]);
    await store.completePage(
      recovered[0]!.id,
      {
        status: 'failed',
        error: 'invalid_auth',
        timeline: [
          {
            at: T0 + 6000,
            actor: 'system',
            kind: 'page_failed',
            channel: 'slack',
            target: '#alerts',
            event: 'opened',
            recipients: ['U1'],
            outcome: 'failed',
            reason: 'Slack: invalid_auth',
          },
        ],
      },
      T0 + 6000,
      ME,
    );
    t.same(await store.queueDepth(), {});
    t.same(
      (await store.getIncident(crit!.incident.id))!.timeline.map((e) => e.kind),
      ['opened', 'paged'],
    );
    t.same(
      (await store.getIncident(crit!.incident.id))!.timeline[1],
      { at: T0, actor: 'system', kind: 'paged', channel: 'slack', target: '#sec', event: 'opened', recipients: ['U1'], outcome: 'sent' },
      'a typed entry comes back with every field',
    );
    t.same(
      (await store.getIncident(low!.incident.id))!.timeline.map((e) => e.kind),
      ['opened', 'page_failed'],
    );

    t.equal(await store.slackMessage(crit!.incident.id, '#sec'), undefined);
    await store.saveSlackMessage(crit!.incident.id, '#sec', 'C1', '1.0');
    await store.saveSlackMessage(crit!.incident.id, '#sec', 'C1', '2.0');
    t.same(
      await store.slackMessage(crit!.incident.id, '#sec'),
      { channelId: 'C1', ts: '1.0' },
      'the first announcement stays the thread root',
    );
  });

  t.test('the outbox: a Critical committed after 5,000 waiting Lows is claimed first; then by severity, then by due time', async (t) => {
    const store = await makeStore(t);
    const page = (severity: 'critical' | 'high' | 'low', target: string, at: number) => ({
      channel: 'slack' as const,
      target,
      event: 'opened' as const,
      severity,
      mentions: [],
      recipients: [],
      cause: null,
      at,
    });
    // 5,000 Lows waiting, each to its own channel (so none waits for another's send), due over the
    // last 5 s; the oldest is the first Low written.
    const lows = Array.from({ length: 5000 }, (_, i) => page('low', `#low-${i}`, T0 - 5000 + i));
    await apply(store, group('lows', [incoming('a', 'SlowAPI')]), (a, p, n) => ({ ...decide(T0)(a, p, n)!, pages: lows }));
    // Two Highs: the one written later was due earlier, and goes first.
    await apply(store, group('high-1', [incoming('a', 'ServiceDown')]), (a, p, n) => ({
      ...decide(T0)(a, p, n)!,
      pages: [page('high', '#high-late', T0)],
    }));
    await apply(store, group('high-2', [incoming('a', 'ServiceDown')]), (a, p, n) => ({
      ...decide(T0)(a, p, n)!,
      pages: [page('high', '#high-early', T0 - 9000)],
    }));
    const crit = await apply(store, group('crit', [incoming('a', 'DDoSAttack')]), (a, p, n) => ({
      ...decide(T0)(a, p, n)!,
      pages: [page('critical', '#sec', T0)],
    }));

    const [first] = await store.claimPages(T0, 1, lease(T0));
    t.match(first, { incidentId: crit!.incident.id, severity: 'critical', target: '#sec' }, 'the Critical, with a claim of one');
    const next = await store.claimPages(T0, 4, lease(T0));
    t.same(
      next.map((p) => p.target),
      ['#high-early', '#high-late', '#low-0', '#low-1'],
      'then the Highs, the longest due first, then the Lows in the order they fell due',
    );
    const rest = await store.claimPages(T0, 10_000, lease(T0));
    t.equal(rest.length, 4998, 'every other Low once');
    t.same(
      rest.slice(0, 2).map((p) => p.target),
      ['#low-2', '#low-3'],
    );
  });

  t.test('the outbox: a page not due yet is not claimed however severe; a busy target is passed over in the severity scan', async (t) => {
    const store = await makeStore(t);
    const page = (severity: 'critical' | 'low', target: string, at: number) => ({
      channel: 'slack' as const,
      target,
      event: 'opened' as const,
      severity,
      mentions: [],
      recipients: [],
      cause: null,
      at,
    });
    await apply(store, group('g', [incoming('a', 'DDoSAttack')]), (a, p, n) => ({
      ...decide(T0)(a, p, n)!,
      pages: [page('critical', '#later', T0 + 1000), page('critical', '#busy', T0), page('low', '#free', T0)],
    }));
    t.same(
      (await store.claimPages(T0, 10, lease(T0), ['slack\n#busy'])).map((p) => p.target),
      ['#free'],
    );
    t.same(
      (await store.claimPages(T0 + 1000, 10, lease(T0 + 1000))).map((p) => p.target),
      ['#busy', '#later'],
      'both Criticals once due and free, the longest due first',
    );
  });

  t.test(
    'leases: a live one is never taken; one that ran out is taken over as maybe sent, and only the holder records an outcome',
    async (t) => {
      const store = await makeStore(t);
      const page = (target: string) => ({
        channel: 'slack' as const,
        target,
        event: 'opened' as const,
        severity: 'high' as const,
        mentions: [],
        recipients: [],
        cause: null,
        at: T0,
      });
      const c = await apply(store, group('g', [incoming('a', 'ServiceDown')]), (a, p, n) => ({
        ...decide(T0)(a, p, n)!,
        pages: [page('#a'), page('#b')],
      }));
      const mine = await store.claimPages(T0, 10, lease(T0));
      t.equal(mine.length, 2);
      t.same(await store.claimPages(T0 + LEASE_MS - 1, 10, lease(T0 + LEASE_MS - 1, 'replica-b')), [], 'not while the lease holds');
      t.equal(await store.renewLeases(ME, T0 + 2 * LEASE_MS), 2, 'a heartbeat renews every page the owner sends');
      t.equal(await store.renewLeases('replica-b', T0 + 2 * LEASE_MS), 0, 'and only its own');
      t.equal(await store.renewLeases(ME, T0 + 2 * LEASE_MS, [mine[0]!.id]), 1, 'or only the pages it names');
      t.same(await store.claimPages(T0 + LEASE_MS, 10, lease(T0 + LEASE_MS, 'replica-b')), [], 'a renewed lease holds past the first term');

      // replica-a stalls past its renewed lease: replica-b takes both over, as unknown outcomes.
      const late = T0 + 2 * LEASE_MS;
      const taken = await store.claimPages(late, 10, lease(late, 'replica-b'));
      t.match(taken, [
        { target: '#a', status: 'sending', maybeSent: true, attempts: 2 },
        { target: '#b', maybeSent: true, attempts: 2 },
      ]);
      const entry = (outcome: 'sent' | 'found') => ({
        at: late,
        actor: 'system',
        kind: 'paged' as const,
        channel: 'slack' as const,
        target: '#a',
        event: 'opened' as const,
        recipients: [],
        outcome,
      });
      t.equal(
        await store.completePage(mine[0]!.id, { status: 'sent', externalRef: 'C1:1.0', timeline: [entry('sent')] }, late, ME),
        false,
        "the stalled one's outcome is not recorded",
      );
      t.equal(await store.completePage(mine[1]!.id, { status: 'retry', nextAttemptAt: late, error: 'Slack HTTP 500' }, late, ME), false);
      t.same(await store.claimPages(late, 10, lease(late)), [], 'and its retry queued nothing');
      t.equal(
        await store.completePage(taken[0]!.id, { status: 'sent', externalRef: 'C1:1.0', timeline: [entry('found')] }, late, 'replica-b'),
        true,
      );
      t.equal(
        await store.completePage(taken[0]!.id, { status: 'sent', externalRef: 'C1:1.0', timeline: [entry('found')] }, late, 'replica-b'),
        false,
        'a page is recorded once',
      );
      t.same(
        (await store.getIncident(c!.incident.id))!.timeline.map((e) => (e.kind === 'paged' ? e.outcome : e.kind)),
        ['opened', 'found'],
        "one entry, the holder's",
      );

      // At shutdown a dispatcher ends its leases: the page is another's at once.
      t.equal(await store.renewLeases('replica-b', late), 1);
      t.match(await store.claimPages(late, 10, lease(late, 'replica-c')), [{ target: '#b', maybeSent: true }]);
    },
  );

  t.test('Slack pace: each channel has its own next-free time, read and written in one step', async (t) => {
    const store = await makeStore(t);
    t.equal(
      await store.paceChannel('#a', (n) => ({ nextFree: n + 1100, result: `a saw ${n}` })),
      'a saw 0',
      'a channel never used is free',
    );
    t.equal(await store.paceChannel('#a', (n) => ({ nextFree: n + 1100, result: `a saw ${n}` })), 'a saw 1100');
    t.equal(await store.paceChannel('#b', (n) => ({ nextFree: n, result: `b saw ${n}` })), 'b saw 0', 'channels do not share a pace');
    t.equal(await store.paceChannel('#a', (n) => ({ nextFree: n, result: n })), 2200);
  });

  t.test('a page folded into a digest is done, like a sent one; a skipped one is failed; neither is queued', async (t) => {
    const store = await makeStore(t);
    const page = {
      channel: 'slack' as const,
      target: '#x',
      event: 'opened' as const,
      severity: 'high' as const,
      mentions: [],
      recipients: [],
      cause: null,
      at: T0,
    };
    await store.applyNotification(group('g', [incoming('a', 'ServiceDown')]), (a, p, n) => ({
      ...decide(T0)(a, p, n)!,
      pages: [page, page],
    }));
    const [one, two] = await store.claimPages(T0, 10, lease(T0));
    await store.completePage(one!.id, { status: 'folded', externalRef: 'digest C1:9.0' }, T0, ME);
    await store.completePage(two!.id, { status: 'skipped', error: 'incident 1 is gone' }, T0, ME);
    t.same(await store.queueDepth(), {});
    t.same(await store.claimPages(T0 + 60 * MIN, 10, lease(T0 + 60 * MIN)), [], 'neither comes back');
  });

  t.test('run-time on-call overrides: added with an id and a log entry, paged, ended, removed, bounded', async (t) => {
    const store = await makeStore(t);
    const o = (team: string | null, contact: string, from: number, to: number, by = 'api') => ({
      team,
      contact,
      from,
      to,
      by,
      createdAt: T0,
      covers: null,
    });
    const a = (await store.addOverride(o('payments', 'bob', T0, T0 + 60 * MIN, 'bob'), 500, T0))!;
    const b = (await store.addOverride({ ...o(null, 'alice', T0, T0 + 10 * MIN), covers: 'dan' }, 500, T0))!;
    const c = (await store.addOverride(o('payments', 'carol', T0 + 30 * MIN, T0 + 90 * MIN), 500, T0))!;
    t.ok(a.id > 0 && b.id > a.id && c.id > b.id, 'ids grow');
    t.same(await store.listOverrides({ endingAfter: T0, limit: 10 }), [a, b, c]);
    t.same(await store.listOverrides({ endingAfter: T0 + 10 * MIN, limit: 10 }), [a, c], 'an override that ended is not listed');
    t.same(await store.listOverrides({ endingAfter: T0, limit: 2 }), [a, b], 'a page');
    t.same(await store.listOverrides({ endingAfter: T0, afterId: b.id, limit: 2 }), [c], 'the next page');
    t.same(await store.listOverrides({ endingAfter: T0, team: null, limit: 10 }), [b], "the top level's");
    t.same(await store.listOverrides({ endingAfter: T0, team: 'payments', limit: 10 }), [a, c], "a team's");

    t.same(await store.overridesAt(T0 + 5 * MIN), [a, b], 'in force at an instant: not c, which starts later');
    t.same(await store.overridesAt(T0 + 40 * MIN), [a, c]);
    t.same(await store.overridesAt(T0 + 100 * MIN), []);
    t.same(await store.overridesBetween(T0 + 70 * MIN, T0 + 80 * MIN), [c]);
    t.same(await store.getOverride(b.id), b);

    t.same(await store.endOverride(a.id, T0 + 20 * MIN, 'bob'), { ...a, to: T0 + 20 * MIN }, 'ended early');
    t.same(await store.overridesAt(T0 + 25 * MIN), [], 'no longer in force');
    t.equal(await store.endOverride(a.id, T0 + 30 * MIN, 'bob'), undefined, 'it had ended');
    t.equal(await store.deleteOverride(c.id, 'carol', T0 + 21 * MIN), true);
    t.equal(await store.deleteOverride(c.id, 'carol', T0 + 21 * MIN), false);
    t.same(await store.overridesAt(T0 + 40 * MIN), [], 'removed');
    t.same(await store.getOverride(c.id), undefined);

    t.equal(await store.addOverride(o('payments', 'dan', T0, T0 + MIN), 0, T0), undefined, 'a full rotation takes no more');
    const d = (await store.addOverride(o('payments', 'dan', T0 + 50 * MIN, T0 + 70 * MIN), 1, T0 + 40 * MIN))!;
    t.ok(d, 'ended and removed ones do not count');
    t.equal(await store.addOverride(o('payments', 'dan', T0 + 80 * MIN, T0 + 90 * MIN), 1, T0 + 40 * MIN), undefined, 'one open of one');
    t.ok(await store.addOverride(o(null, 'dan', T0 + 80 * MIN, T0 + 90 * MIN), 1, T0 + 40 * MIN), 'another rotation has its own bound');

    t.same(
      (await store.voidOverrides(['bob', 'alice', 'carol'], T0 + 45 * MIN, 'gone')).map((x) => x.id),
      [d.id, d.id + 1],
      "dan's are void",
    );
    t.same(await store.overridesAt(T0 + 60 * MIN), []);

    const log = await store.oncallLog({ team: 'payments', limit: 20 });
    t.same(
      log.map((e) => [e.kind, e.actor, e.overrideId]),
      [
        ['override_voided', 'config', d.id],
        ['override_added', 'api', d.id],
        ['override_removed', 'carol', c.id],
        ['override_ended', 'bob', a.id],
        ['override_added', 'api', c.id],
        ['override_added', 'bob', a.id],
      ],
      'every change, newest first, with who',
    );
    t.match(log[0], { team: 'payments', at: T0 + 45 * MIN, data: { contact: 'dan', reason: 'gone' } });
    t.same(
      (await store.oncallLog({ team: null, limit: 20 })).map((e) => e.kind),
      ['override_voided', 'override_added', 'override_added'],
    );
    t.equal((await store.oncallLog({ limit: 3 })).length, 3);
  });

  t.test('on-call requests: made, answered once; an acceptance makes its overrides in the same transaction', async (t) => {
    const store = await makeStore(t);
    const q = await store.addOncallRequest({
      team: 'payments',
      kind: 'swap',
      contact: 'alice',
      asked: 'bob',
      from: T0,
      to: T0 + 60 * MIN,
      swapFrom: T0 + 120 * MIN,
      swapTo: T0 + 180 * MIN,
      requestedBy: 'Alice Martin',
      createdAt: T0,
    });
    t.match(q, { status: 'pending', decidedAt: null });
    t.same(await store.getOncallRequest(q.id), q);
    t.same(await store.pendingOncallRequests('bob'), [q]);
    t.same(await store.pendingOncallRequests('alice'), [q]);
    const base = { team: 'payments', by: 'Bob Chen', createdAt: T0 + MIN };
    const overrides = [
      { ...base, contact: 'bob', from: T0, to: T0 + 60 * MIN, covers: 'alice' },
      { ...base, contact: 'alice', from: T0 + 120 * MIN, to: T0 + 180 * MIN, covers: 'bob' },
    ];
    const done = await store.decideOncallRequest(q.id, { status: 'accepted', by: 'Bob Chen', at: T0 + MIN, overrides, maxOpen: 500 });
    t.match(done?.request, { status: 'accepted', decidedBy: 'Bob Chen', decidedAt: T0 + MIN });
    t.same(
      done?.overrides.map((o) => [o.contact, o.covers]),
      [
        ['bob', 'alice'],
        ['alice', 'bob'],
      ],
    );
    t.equal(
      await store.decideOncallRequest(q.id, { status: 'declined', by: 'Bob Chen', at: T0 + 2 * MIN, overrides: [], maxOpen: 500 }),
      undefined,
      'answered once',
    );
    t.same(await store.pendingOncallRequests('bob'), []);
    t.same(
      (await store.oncallLog({ team: 'payments', limit: 10 })).map((e) => e.kind),
      ['request_accepted', 'override_added', 'override_added', 'request_made'],
    );
  });

  t.test(
    'notices: pages of no incident, queued with a request, its answer or a handoff claimed once; leased, paced and completed like pages',
    async (t) => {
      const store = await makeStore(t);
      const notice = (target: string, title: string): NewNotice => ({
        channel: 'slack',
        target,
        recipients: [],
        notice: { kind: 'oncall_request', title, lines: ['line <b>&'], url: 'https://triage.example/oncall' },
        at: T0,
      });
      const q = await store.addOncallRequest(
        {
          team: null,
          kind: 'cover',
          contact: 'alice',
          asked: 'bob',
          from: T0,
          to: T0 + 60 * MIN,
          swapFrom: null,
          swapTo: null,
          requestedBy: 'Alice Martin',
          createdAt: T0,
        },
        [notice('U0BOB', 'Alice asks you to cover')],
      );
      const claimed = await store.claimPages(T0, 10, lease(T0));
      t.match(claimed, [
        {
          incidentId: null,
          event: 'notice',
          channel: 'slack',
          target: 'U0BOB',
          maybeSent: false,
          attempts: 1,
          notice: { kind: 'oncall_request', title: 'Alice asks you to cover', lines: ['line <b>&'], url: 'https://triage.example/oncall' },
        },
      ]);
      t.same(await store.claimPages(T0, 10, lease(T0, 'replica-b')), [], 'leased: another dispatcher does not take it');
      t.same(await store.queueDepth(), { slack: 1 });
      t.equal(
        await store.completePage(
          claimed[0]!.id,
          { status: 'retry', nextAttemptAt: T0 + 1000, error: 'timed out', maybeSent: true },
          T0,
          ME,
        ),
        true,
      );
      const again = await store.claimPages(T0 + 1000, 10, lease(T0 + 1000));
      t.match(again, [{ incidentId: null, maybeSent: true, attempts: 2 }], 'an unknown outcome: looked up before it is sent again');
      t.equal(await store.completePage(again[0]!.id, { status: 'sent', externalRef: 'D1:1.1' }, T0 + 1000, ME), true);
      t.same(await store.queueDepth(), {});

      // The answer's notice is queued only by the one answer that counts.
      const answer = { status: 'declined' as const, by: 'Bob Chen', at: T0 + MIN, overrides: [], maxOpen: 500 };
      t.ok(await store.decideOncallRequest(q.id, { ...answer, notices: [notice('U0ALICE', 'Bob declined')] }));
      t.equal(await store.decideOncallRequest(q.id, { ...answer, notices: [notice('U0ALICE', 'Bob declined twice')] }), undefined);
      const declined = await store.claimPages(T0 + MIN, 10, lease(T0 + MIN));
      t.match(declined, [{ target: 'U0ALICE', notice: { title: 'Bob declined' } }]);
      t.equal(await store.completePage(declined[0]!.id, { status: 'sent', externalRef: 'D2:1.2' }, T0 + MIN, ME), true);

      // The first shift the store sees of a rotation is a baseline: claimed, never announced.
      t.equal(
        await store.claimHandoff({ rotation: 'payments', shiftStart: T0, contact: 'carol', at: T0 + MIN }, [notice('U0CAROL', 'baseline')]),
        false,
      );
      t.same(await store.queueDepth(), {}, 'the baseline queues no notice');
      // A handoff: claimed by one caller with its notices; a second claim of the same shift start queues nothing.
      const h = { rotation: 'payments', shiftStart: T0 + 60 * MIN, contact: 'dan', at: T0 + 60 * MIN };
      const [one, two] = await Promise.all([
        store.claimHandoff(h, [notice('U0DAN', 'You are on call')]),
        store.claimHandoff({ ...h, at: h.at + 1 }, [notice('U0DAN', 'You are on call (again)')]),
      ]);
      t.same([one, two].sort(), [false, true], 'one claim of a shift start, whoever asks');
      t.equal(await store.claimHandoff(h, [notice('U0DAN', 'later')]), false);
      t.equal(
        await store.claimHandoff({ ...h, rotation: '' }, [notice('U0DAN', 'top level')]),
        false,
        "another rotation's shift is its own: its baseline",
      );
      const handoffs = await store.claimPages(h.at, 10, lease(h.at));
      t.same(
        handoffs.map((p) => p.notice?.title),
        ['You are on call'],
      );
      t.equal(await store.completePage(handoffs[0]!.id, { status: 'failed', error: 'Slack: channel_not_found' }, h.at, ME), true);
      t.same(await store.queueDepth(), {});
    },
  );

  t.test('calendar feeds: found by the hash of their token until revoked, by whoever made them', async (t) => {
    const store = await makeStore(t);
    const f = await store.addCalendarFeed({ tokenHash: 'h1', scope: 'contact', subject: 'bob', createdBy: 'Bob Chen', createdAt: T0 });
    await store.addCalendarFeed({ tokenHash: 'h2', scope: 'team', subject: '', createdBy: 'Bob Chen', createdAt: T0 });
    t.same(await store.calendarFeedByHash('h1'), f);
    t.equal(await store.calendarFeedByHash('nope'), undefined);
    t.same(
      (await store.calendarFeeds('Bob Chen')).map((x) => x.tokenHash),
      ['h1', 'h2'],
    );
    t.equal(await store.revokeCalendarFeed(f.id, 'Alice Martin', T0), false, "not someone else's");
    t.equal(await store.revokeCalendarFeed(f.id, 'Bob Chen', T0), true);
    t.equal(await store.calendarFeedByHash('h1'), undefined, 'revoked');
    t.same(
      (await store.calendarFeeds('Bob Chen')).map((x) => x.tokenHash),
      ['h2'],
    );
  });

  t.test('a page of a person’s rules is due at its own time and keeps whose it is', async (t) => {
    const store = await makeStore(t);
    const phone = (at: number, lastOfMethod: boolean) => ({
      channel: 'voice',
      target: '+33600000003',
      event: 'opened' as const,
      severity: 'critical' as const,
      mentions: [],
      recipients: ['carol'],
      cause: null,
      at,
      personal: { contact: 'carol', lastOfMethod },
    });
    await apply(store, group('p', [incoming('a', 'DDoSAttack')]), (a, p, n) => ({
      ...decide(T0)(a, p, n)!,
      pages: [phone(T0 + MIN, false), phone(T0 + 5 * MIN, true)],
    }));
    t.same(await store.claimPages(T0, 10, lease(T0)), [], 'nothing due before its time');
    const [first] = await store.claimPages(T0 + MIN, 10, lease(T0 + MIN));
    t.match(first, { channel: 'voice', target: '+33600000003', personal: { contact: 'carol', lastOfMethod: false }, createdAt: T0 + MIN });
    await store.completePage(first!.id, { status: 'sent', externalRef: 'CA1' }, T0 + MIN, ME);
    t.equal((await store.claimPages(T0 + 5 * MIN, 10, lease(T0 + 5 * MIN)))[0]?.personal?.lastOfMethod, true);
  });

  t.test('calls and texts placed: saved once by sid, their latest status, listed by number newest first', async (t) => {
    const store = await makeStore(t);
    const m = (sid: string, at: number, to = '+33600000003') => ({
      sid,
      channel: 'sms',
      to,
      contact: 'carol',
      pageId: 7,
      incidentIds: [1, 2],
      at,
      status: 'queued',
      updatedAt: at,
    });
    await store.savePhoneMessage(m('SM1', T0));
    await store.savePhoneMessage({ ...m('SM1', T0 + 5), status: 'other' });
    await store.savePhoneMessage(m('SM2', T0 + MIN));
    await store.savePhoneMessage(m('SM3', T0 + 2 * MIN, '+33600000004'));
    t.same(await store.phoneMessage('SM1'), m('SM1', T0), 'the first save stands');
    t.equal(await store.phoneMessage('SMx'), undefined);
    await store.setPhoneStatus('SM1', 'delivered', T0 + 10);
    await store.setPhoneStatus('SM1', 'sent', T0 + 9); // late, out of order: ignored
    t.match(await store.phoneMessage('SM1'), { status: 'delivered', updatedAt: T0 + 10 });
    t.same(
      (await store.phoneMessagesTo('sms', '+33600000003', T0)).map((x) => x.sid),
      ['SM2', 'SM1'],
    );
    t.same(
      (await store.phoneMessagesTo('sms', '+33600000003', T0 + 1)).map((x) => x.sid),
      ['SM2'],
    );
    t.same(await store.phoneMessagesTo('voice', '+33600000003', 0), []);
  });

  t.test('contact settings: one document per person, changed atomically', async (t) => {
    const store = await makeStore(t);
    t.equal(await store.contactSettings('carol'), undefined);
    const r = await store.updateContactSettings('carol', (s) => ({
      settings: { ...s, methods: [...s.methods, { method: 'sms', address: '+336', failed: { reason: 'STOP', at: 1 } }] },
      result: 'saved',
    }));
    t.equal(r, 'saved');
    await Promise.all(
      ['a', 'b', 'c'].map((x) =>
        store.updateContactSettings('carol', (s) => ({
          settings: { ...s, methods: [...s.methods, { method: 'ntfy', address: x }] },
          result: undefined,
        })),
      ),
    );
    const s = (await store.contactSettings('carol'))!;
    t.same(s.methods.map((m) => m.address).sort(), ['+336', 'a', 'b', 'c'], 'no write lost to another');
    t.equal(await store.updateContactSettings('dan', () => ({ result: 1 })), 1, 'no settings: nothing written');
    t.same([...(await store.allContactSettings()).keys()], ['carol']);
  });

  t.test('sweepEscalations picks open incidents whose next escalation is due', async (t) => {
    const store = await makeStore(t);
    const due = await apply(store, group('a', [incoming('a', 'DDoSAttack')]), (a, p, n) => {
      const c = decide(T0)(a, p, n)!;
      return { ...c, incident: { ...c.incident, nextEscalationAt: T0 + 5 * MIN } };
    });
    await apply(store, group('b', [incoming('a', 'DDoSAttack')]), decide(T0)); // nothing scheduled
    t.same(await store.sweepEscalations(T0 + 4 * MIN, () => null), []);
    const seen: number[] = [];
    await store.sweepEscalations(T0 + 5 * MIN, (i) => {
      seen.push(i.id!);
      return {
        incident: { ...i, escalationStep: 1, nextEscalationAt: null },
        alerts: [],
        timeline: [{ at: T0 + 5 * MIN, actor: 'system', kind: 'escalated', step: 1, steps: 2, unackedMs: 5 * MIN, paged: [] }],
      };
    });
    t.same(seen, [due!.incident.id]);
    t.match(await store.getIncident(due!.incident.id), { escalationStep: 1, nextEscalationAt: null });
  });

  t.test('text with a NUL or a lone surrogate is stored with U+FFFD in its place, wherever it is', async (t) => {
    // PostgreSQL refuses both for good (22021, 22P05) and SQLite keeps them: both stores must hold
    // the same well-formed text, or a group would be answered 500 and retried forever.
    const store = await makeStore(t);
    const bad = 'a\u0000b\ud800c\udfffd';
    const good = 'a\ufffdb\ufffdc\ufffdd';
    const pair = 'ok \ud83d\udea8'; // a well-formed pair stays as it is
    const alert = {
      ...incoming('a', 'ServiceDown'),
      labels: toLabels({ alertname: 'ServiceDown', [bad]: bad, pair }),
      annotations: toLabels({ [`k${bad}`]: `v${bad}` }),
    };
    const n = groupNotification([alert], { groupKey: `{}:{x="${bad}"}`, receiver: bad, groupLabels: toLabels({ [bad]: bad }) });
    const opened = await apply(store, n, decide(T0));
    const id = opened!.incident.id;
    const got = (await store.getIncident(id))!;
    t.equal(got.groupKey, `{}:{x="${good}"}`);
    t.equal(got.receiver, good);
    t.same({ ...got.groupLabels }, { [good]: good });
    t.same({ ...got.alerts[0]!.labels }, { alertname: 'ServiceDown', [good]: good, pair });
    t.same({ ...got.alerts[0]!.annotations }, { [`k${good}`]: `v${good}` });

    // The same group again, as its text was sent: found, not opened twice; a later notification applies.
    t.equal(await apply(store, n, decide(T0 + MIN)), null, 'a re-delivery finds the incident it opened');
    const resolvedN = { ...n, status: 'resolved' as const, alerts: [{ ...alert, status: 'resolved' as const, endsAt: T0 + MIN }] };
    t.match(
      await apply(store, resolvedN, decide(T0 + 2 * MIN)),
      { incident: { id, status: 'resolved' } },
      'the group can still auto-resolve',
    );

    const noted = await store.updateIncident(id, (i) => addNote(i, { name: bad, via: 'web' }, `note ${bad}`, T0 + 3 * MIN));
    t.ok(noted?.change, 'a note and its author');
    const timeline = (await store.getIncident(id))!.timeline;
    t.match(timeline.at(-1), { kind: 'note', actor: good, text: `note ${good}` });

    const o = (await store.addOverride(
      { team: bad, contact: bad, from: T0, to: T0 + 60 * MIN, by: bad, createdAt: T0, covers: bad },
      500,
      T0,
    ))!;
    t.match(await store.overridesAt(T0), [{ id: o.id, team: good, contact: good, by: good, covers: good }], 'an override');

    const page = {
      channel: 'slack' as const,
      target: `#${bad}`,
      event: 'opened' as const,
      severity: 'high' as const,
      mentions: [bad],
      recipients: [bad],
      cause: null,
      at: T0,
    };
    await store.applyNotification(group('paged', [incoming('p', 'ServiceDown')]), (a, p, n2) => ({
      ...decide(T0)(a, p, n2)!,
      pages: [page],
    }));
    t.same(await store.claimPages(T0, 10, lease(T0), [`slack\n#${bad}`]), [], 'a busy target, named as it was sent, is still busy');
    const [claimed] = await store.claimPages(T0, 10, lease(T0));
    t.match(claimed, { target: `#${good}`, mentions: [good], recipients: [good] }, 'a page');
    t.equal(
      await store.completePage(claimed!.id, { status: 'retry', nextAttemptAt: T0 + 1000, error: `Slack said ${bad}` }, T0, ME),
      true,
      'an error text from a channel',
    );
    await store.saveSlackMessage(id, `#${bad}`, bad, bad);
    t.same(await store.slackMessage(id, `#${bad}`), { channelId: good, ts: good }, 'a Slack message, found by the target as it was sent');
  });

  t.test('web sessions: read until they expire or end, listed per person, ended all at once, swept', async (t) => {
    const store = await makeStore(t);
    const carol = { key: 'carol', contact: 'carol', name: 'Carol', email: 'carol@example.com', groups: ['sre'] };
    const dave = { key: 'email:dave@example.com', contact: null, name: 'Dave', email: 'dave@example.com', groups: [] };
    const session = (idHash: string, person: typeof carol | typeof dave, createdAt: number, ttl = 60 * MIN) =>
      ({ idHash, person, via: 'oidc', createdAt, expiresAt: createdAt + ttl, userAgent: 'Firefox', idToken: null }) as const;
    await store.createSession(session('c1', carol, T0));
    await store.createSession(session('c2', carol, T0 + MIN));
    await store.createSession(session('d1', dave, T0, 5 * MIN));
    t.same(await store.getSession('c1', T0 + 1), session('c1', carol, T0), 'read back whole');
    t.equal(await store.getSession('nope', T0), undefined);
    t.equal(await store.getSession('d1', T0 + 5 * MIN), undefined, 'expired at its expiry, even before a sweep');
    t.same(
      (await store.listSessions('carol', T0 + 2 * MIN)).map((s) => s.idHash),
      ['c2', 'c1'],
      'newest first',
    );
    t.equal(await store.endSession('c1', 'email:dave@example.com'), false, "one person cannot end another's session");
    t.equal(await store.endSession('c1', 'carol'), true);
    t.equal(await store.getSession('c1', T0 + 1), undefined, 'ended');
    t.equal(await store.endSession('c1'), false, 'ended once');
    await store.createSession(session('c3', carol, T0 + 2 * MIN));
    t.equal(await store.endSessionsOf('carol'), 2, "an admin ends all of a person's sessions");
    t.same(await store.listSessions('carol', T0), []);
    t.equal(await store.sweepSessions(T0 + 5 * MIN), 1, 'the expired one is swept');
    t.equal(await store.sweepSessions(T0 + 5 * MIN), 0);
    t.same(dave.groups, [], 'an empty group list round-trips');
    await store.createSession(session('c5', carol, T0));
    t.equal((await store.getSession('c5', T0))!.idToken, null, 'no ID token unless kept');
    const idToken = `eyJhbGciOiJSUzI1NiJ9.${'x'.repeat(3000)}.sig`;
    await store.createSession({ ...session('c4', carol, T0), idToken });
    t.equal(
      (await store.getSession('c4', T0 + 1))!.idToken,
      idToken,
      "an OpenID Connect session's ID token (for sign-out at the provider)",
    );
    t.same(
      (await store.listSessions('carol', T0)).map((x) => [x.idHash, x.idToken]),
      [
        ['c4', idToken],
        ['c5', null],
      ],
    );
  });

  t.test('personal API tokens: found by hash, listed, touched, revoked by their owner only', async (t) => {
    const store = await makeStore(t);
    const carol = { key: 'carol', contact: 'carol', name: 'Carol', email: null, groups: [] };
    const made = await store.createApiToken({ prefix: 'tri_abc', hash: 'h1', person: carol, label: 'laptop', createdAt: T0 });
    t.ok(made.id > 0);
    t.equal(made.lastUsedAt, null);
    t.same(await store.apiTokenByHash('h1'), made);
    t.equal(await store.apiTokenByHash('h2'), undefined);
    await store.touchApiToken(made.id, T0 + MIN);
    t.equal((await store.apiTokenByHash('h1'))!.lastUsedAt, T0 + MIN, 'last used');
    const other = await store.createApiToken({ prefix: 'tri_def', hash: 'h2', person: carol, label: 'ci', createdAt: T0 + 1 });
    t.same(
      (await store.listApiTokens('carol')).map((x) => x.label),
      ['laptop', 'ci'],
    );
    t.equal(await store.revokeApiToken(made.id, 'dave'), false, "not someone else's");
    t.equal(await store.revokeApiToken(made.id, 'carol'), true);
    t.equal(await store.apiTokenByHash('h1'), undefined, 'a revoked token is gone');
    t.equal(await store.revokeApiToken(other.id), true, 'an admin revokes any');
    t.same(await store.listApiTokens('carol'), []);
  });

  t.test('ping answers', async (t) => {
    const store = await makeStore(t);
    await t.resolves(store.ping());
  });
}
