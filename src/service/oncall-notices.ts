import { zonedTime, type TimeFormat } from '../incidents/timeline-text.js';
import type { NewNotice, Notice } from '../outbox/page.js';
import type { OncallRequest } from '../paging/oncall.js';
import type { PagingConfig } from '../paging/paging-config.js';
import { isTimeZone } from '../paging/zoned-time.js';
import type { IncidentStore } from '../store/store.js';

/** What the notices need: the config's contacts, each person's own zone, which channels can send, the public URL. */
export interface OncallNoticeDeps {
  store: Pick<IncidentStore, 'contactSettings'>;
  config: { readonly current: { paging: PagingConfig } };
  /** Whether a channel is configured to send (a notice to one that is not would only be recorded as failed). */
  canSend: (channel: string) => boolean;
  publicUrl?: string | undefined;
}

/** How a notice to one person is worded: it gets the person's time format (their own zone, else the rotation's) and the zone's name. */
export type NoticeWords = (time: TimeFormat, zone: string) => Notice;

/**
 * The notices of on-call (handoffs, swap and cover requests and their answers), addressed: a person
 * is told by Slack direct message when Slack can send and they have a member ID, else by e-mail;
 * times are in their own zone when they set one. Each notice goes through the outbox, queued in the
 * transaction of the change it tells about.
 */
export class OncallNotices {
  constructor(private readonly deps: OncallNoticeDeps) {}

  /** The person's own time zone (their setting), else `fallback` (the rotation's). */
  async zoneOf(contact: string, fallback: string): Promise<string> {
    const own = (await this.deps.store.contactSettings(contact))?.timeZone;
    return own && isTimeZone(own) ? own : fallback;
  }

  /** The /oncall page of a rotation ('' for the top level's), when PUBLIC_URL is known. */
  url(rotation: string): string | undefined {
    const base = this.deps.publicUrl?.replace(/\/+$/, '');
    return base ? `${base}/oncall${rotation ? `/${encodeURIComponent(rotation)}` : ''}` : undefined;
  }

  /** One notice to `contact`, on the one channel that reaches them; none when nothing can (no address, no channel configured). */
  async toPerson(contact: string, fallbackZone: string, at: number, words: NoticeWords): Promise<NewNotice[]> {
    const c = this.deps.config.current.paging.contacts.find((x) => x.id === contact);
    if (!c) return [];
    const zone = await this.zoneOf(contact, fallbackZone);
    const notice = words(zonedTime(zone), zone);
    if (c.slack && this.deps.canSend('slack')) return [{ channel: 'slack', target: c.slack, recipients: [], notice, at }];
    if (c.email && this.deps.canSend('email')) return [{ channel: 'email', target: c.email, recipients: [c.email], notice, at }];
    return [];
  }

  /** A notice to a Slack channel (a rotation's handoffChannel), in the rotation's zone. */
  toRoom(channel: string, zone: string, at: number, words: NoticeWords): NewNotice[] {
    return this.deps.canSend('slack')
      ? [{ channel: 'slack', target: channel, recipients: [], notice: words(zonedTime(zone), zone), at }]
      : [];
  }

  /** A contact's name, or the id when the config does not know it. */
  nameOf(contact: string): string {
    return this.deps.config.current.paging.contacts.find((c) => c.id === contact)?.name ?? contact;
  }

  /** The notice to the person asked to accept a cover or a swap. */
  async requestMade(q: OncallRequest, rotation: { id: string; name: string; zone: string }): Promise<NewNotice[]> {
    const url = this.url(rotation.id);
    return this.toPerson(q.asked, rotation.zone, q.createdAt, (time, zone) => {
      const span = (from: number, to: number) => `${time(from)} – ${time(to)}`;
      const lines =
        q.kind === 'cover'
          ? [`${this.nameOf(q.contact)} would take your ${rotation.name} shift ${span(q.from, q.to)}.`]
          : [
              `You would take ${this.nameOf(q.contact)}'s ${rotation.name} shift ${span(q.from, q.to)},`,
              `and ${this.nameOf(q.contact)} yours ${span(q.swapFrom!, q.swapTo!)}.`,
            ];
      return {
        kind: 'oncall_request',
        title: `${q.requestedBy} asks you to accept a ${q.kind === 'cover' ? 'cover' : 'swap'} (${rotation.name})`,
        lines: [...lines, `Times in ${zone}. Accept or decline on the on-call page.`],
        url,
      };
    });
  }

  /**
   * The notices of an answer: to whoever the request would put on call (the one who asked to cover or
   * swap) and, for a withdrawn one, to the person asked; never to the person who answered.
   */
  async requestAnswered(
    q: OncallRequest,
    by: { name: string; contact?: string | undefined },
    rotation: { id: string; name: string; zone: string },
  ) {
    const url = this.url(rotation.id);
    const tell = q.status === 'cancelled' ? q.asked : q.contact;
    if (tell === by.contact) return [];
    const verb = q.status === 'accepted' ? 'accepted' : q.status === 'declined' ? 'declined' : 'withdrew';
    return this.toPerson(tell, rotation.zone, q.decidedAt ?? q.createdAt, (time, zone) => ({
      kind: 'oncall_answer',
      title: `${by.name} ${verb} the ${q.kind} of ${rotation.name} shifts`,
      lines: [
        q.kind === 'cover'
          ? `${this.nameOf(q.contact)} covering ${this.nameOf(q.asked)}, ${time(q.from)} – ${time(q.to)} (${zone}).`
          : `${this.nameOf(q.asked)} taking ${time(q.from)} – ${time(q.to)}, ${this.nameOf(q.contact)} taking ${time(q.swapFrom!)} – ${time(q.swapTo!)} (${zone}).`,
        q.status === 'accepted' ? 'The shifts are changed: paging follows them.' : 'Nothing changed.',
      ],
      url,
    }));
  }
}
