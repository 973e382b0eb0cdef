import type { Clock } from '../clock.js';
import type { Incident } from '../incidents/model.js';
import type { TimeFormat } from '../incidents/timeline-text.js';
import type { NewNotice } from '../outbox/page.js';
import type { Shift } from '../paging/oncall.js';
import { policyFor, type PagingConfig } from '../paging/paging-config.js';
import type { IncidentStore } from '../store/store.js';
import type { OncallNotices } from './oncall-notices.js';
import type { OncallService, RotationView } from './oncall-service.js';

/** How late a handoff is still announced: a service down for longer at the change does not announce it afterwards. */
export const HANDOFF_WINDOW_MS = 60 * 60_000;
/** How many unresolved incidents a notice names (it counts them all). */
const LISTED = 5;
/** How many of the newest incidents a shift's summary reads at most. */
const SUMMARY_READ = 500;

/** Sets a Slack user group's members (notify/slack/slack-usergroups.ts). */
export interface UsergroupPort {
  readonly notConfigured: string | undefined;
  update(group: string, users: readonly string[]): Promise<void>;
}

export interface HandoffDeps {
  store: IncidentStore;
  clock: Clock;
  config: { readonly current: { paging: PagingConfig } };
  oncall: OncallService;
  notices: OncallNotices;
  /** Notices were committed: the dispatcher claims them now. */
  wake: () => void;
  usergroups?: UsergroupPort | undefined;
  observeUsergroupSync?: ((group: string, ok: boolean, now: number) => void) | undefined;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/**
 * The scheduler's on-call pass: at each change of who is on call, the incoming person (what is
 * open, until when, who is next), the outgoing one (a summary of their shift) and the rotation's
 * handoffChannel are told, once across replicas: the store claims the rotation's shift start and
 * queues the notices in one transaction, and the outbox sends them. And each rotation's Slack user
 * group is set to who is on call when that changes (never a reason to miss a page: a failure is
 * logged, counted and tried again at the next pass).
 */
export class HandoffService {
  /** Shift starts this replica has claimed or seen claimed, by rotation: not composed again. */
  private readonly done = new Map<string, number>();
  /** Each user group's members as last set by this replica, and when a failed one may be tried again. */
  private readonly synced = new Map<string, string>();
  private readonly retryAt = new Map<string, number>();

  constructor(private readonly deps: HandoffDeps) {}

  async sweep(): Promise<void> {
    for (const r of this.deps.oncall.rotations()) {
      try {
        await this.pass(r);
      } catch (err) {
        this.deps.log.warn({ err, rotation: r.id || '(top level)' }, 'on-call handoff pass failed; will retry');
      }
    }
  }

  private async pass(r: RotationView): Promise<void> {
    const now = this.deps.clock.now();
    const { current, next } = await this.deps.oncall.now(r);
    await this.syncUsergroup(r, current.contact, now);
    if (r.rotation.handoffNotices === false && !r.rotation.handoffChannel) return;
    const { start, before } = await this.stretchStart(r, current);
    if (this.done.get(r.id) === start) return;
    // A shift that began too long ago (or with nobody before) is still claimed, with no notice: the
    // store's baseline, so that the rotation's next handoff is announced (store.claimHandoff).
    const late = !before || now - start > HANDOFF_WINDOW_MS;
    const notices = late ? [] : await this.compose(r, current.contact, before, start, next, now);
    const claimed = await this.deps.store.claimHandoff({ rotation: r.id, shiftStart: start, contact: current.contact, at: now }, notices);
    this.done.set(r.id, start);
    if (!claimed || late || !before) return;
    this.deps.log.info(
      { rotation: r.id || '(top level)', incoming: current.contact, outgoing: before.contact, notices: notices.length },
      'on-call handoff announced',
    );
    if (notices.length) this.deps.wake();
  }

  /** Where the current person's stretch began (an override of the same person does not start one), and who was on call before. */
  private async stretchStart(r: RotationView, current: Shift): Promise<{ start: number; before: Shift | undefined }> {
    let start = current.from;
    for (let i = 0; i < 20; i++) {
      const [before] = await this.deps.oncall.schedule(r, start - 1, start);
      if (!before) return { start, before: undefined };
      if (before.contact !== current.contact) return { start, before };
      start = before.from;
    }
    return { start, before: undefined };
  }

  private async compose(r: RotationView, incoming: string, before: Shift, start: number, next: Shift, now: number): Promise<NewNotice[]> {
    const n = this.deps.notices;
    const zone = r.rotation.timeZone;
    const url = n.url(r.id);
    const mine = (i: Incident) => policyFor(this.deps.config.current.paging, i.team).rotationOwner === r.owner;
    const unresolved = [
      ...(await this.deps.store.listIncidents({ status: 'open', limit: 200 })),
      ...(await this.deps.store.listIncidents({ status: 'acknowledged', limit: 200 })),
    ]
      .filter(mine)
      .sort((a, b) => a.id! - b.id!);
    const list = (items: Incident[]) => [
      ...items
        .slice(0, LISTED)
        .map((i) => `#${i.id} [${i.severity}] ${i.title} (${i.status}${i.acknowledgedBy ? ` by ${i.acknowledgedBy}` : ''})`),
      ...(items.length > LISTED ? [`…and ${items.length - LISTED} more`] : []),
    ];
    const inName = n.nameOf(incoming);
    const outName = n.nameOf(before.contact);
    const until = (time: TimeFormat) => time(next.from);
    const out: NewNotice[] = [];
    if (r.rotation.handoffNotices !== false) {
      out.push(
        ...(await n.toPerson(incoming, zone, now, (time, z) => ({
          kind: 'handoff',
          title: `You are on call for ${r.name} until ${until(time)}`,
          lines: [
            `Taking over from ${outName}. Times in ${z}.`,
            `Open incidents: ${unresolved.length}`,
            ...list(unresolved),
            `Next: ${n.nameOf(next.contact)} from ${until(time)}.`,
          ],
          url,
        }))),
      );
      // The outgoing person's summary: what their shift saw, from the newest incidents.
      const seen = (await this.deps.store.listIncidents({ limit: SUMMARY_READ })).filter(
        (i) => mine(i) && i.openedAt >= before.from && i.openedAt < start,
      );
      const acked = seen.filter((i) => i.acknowledgedBy === outName).length;
      const stillOpen = seen.filter((i) => i.status !== 'resolved');
      out.push(
        ...(await n.toPerson(before.contact, zone, now, (time, z) => ({
          kind: 'shift_summary',
          title: `Your ${r.name} on-call shift has ended: ${inName} is on call now`,
          lines: [
            `Your shift: ${time(before.from)} – ${time(start)} (${z}).`,
            `Incidents opened: ${seen.length}${seen.length >= SUMMARY_READ ? ' or more' : ''}; acknowledged by you: ${acked}; still unresolved: ${stillOpen.length}.`,
            ...list(stillOpen),
          ],
          url,
        }))),
      );
    }
    if (r.rotation.handoffChannel)
      out.push(
        ...n.toRoom(r.rotation.handoffChannel, zone, now, (time, z) => ({
          kind: 'handoff',
          title: `${inName} is on call for ${r.name} until ${until(time)} (${z}); open incidents: ${unresolved.length}`,
          lines: [`Taking over from ${outName}.`],
          url,
        })),
      );
    return out;
  }

  /** Sets the rotation's Slack user group to who is on call, when that changed since this replica last set it. */
  private async syncUsergroup(r: RotationView, contact: string, now: number): Promise<void> {
    const group = r.rotation.slackUsergroup;
    const port = this.deps.usergroups;
    if (!group || !port || port.notConfigured) return;
    const member = this.deps.config.current.paging.contacts.find((c) => c.id === contact)?.slack;
    if (!member) {
      if (this.synced.get(group) !== `none:${contact}`) {
        this.synced.set(group, `none:${contact}`);
        this.deps.log.warn({ usergroup: group, contact }, 'the on-call person has no Slack member ID: the user group is left as it is');
        this.deps.observeUsergroupSync?.(group, false, now);
      }
      return;
    }
    if (this.synced.get(group) === member || (this.retryAt.get(group) ?? 0) > now) return;
    try {
      await port.update(group, [member]);
      this.synced.set(group, member);
      this.retryAt.delete(group);
      this.deps.observeUsergroupSync?.(group, true, now);
      this.deps.log.info({ usergroup: group, contact }, 'Slack user group set to who is on call');
    } catch (err) {
      const retryAfter = (err as { retryAfterMs?: number }).retryAfterMs;
      if (retryAfter) this.retryAt.set(group, now + retryAfter);
      this.deps.observeUsergroupSync?.(group, false, now);
      this.deps.log.warn({ usergroup: group, reason: (err as Error).message }, 'could not set the Slack user group; will retry');
    }
  }
}
