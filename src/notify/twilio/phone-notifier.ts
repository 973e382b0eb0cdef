import type { IncidentWithDetails } from '../../incidents/model.js';
import { NotifyError, type Delivery, type DigestItem, type Notifier, type Pace, type PageContext } from '../../outbox/channel.js';
import type { OutboxEntry } from '../../outbox/page.js';
import { incidentUrl } from '../render.js';
import type { PhoneMessage, PhoneRecords } from '../channel-definition.js';
import { digestText, pageText, textAllowance, TEXTS_PER_HOUR, type PhoneIncident } from './phone-text.js';
import { NUMBER_FAILURES, TwilioApi, TwilioError, type TwilioCredentials } from './twilio-api.js';

export type PhoneChannel = 'sms' | 'voice';

/** Settings of the phone channels, from the environment. */
export interface PhoneSettings extends Partial<TwilioCredentials> {
  /** The number texts come from (TWILIO_FROM), and calls unless voiceFrom is set. */
  from?: string | undefined;
  voiceFrom?: string | undefined;
  /** PUBLIC_URL: where Twilio fetches a call's words and posts statuses; the link in a text. */
  publicUrl?: string | undefined;
  /** At most one request a from-number per this many ms, across every replica (Twilio's 1 a second on a long code). */
  fromIntervalMs?: number | undefined;
  /**
   * How long the lookup after a lost answer keeps looking before it concludes that Twilio never
   * took the request: its lists are eventually consistent, and a call it took may be missing from
   * them for a while (LIST_WAIT_MS by default).
   */
  listWaitMs?: number | undefined;
  /** Another pace per person than the channel's (tests). */
  pace?: Partial<Pace> | undefined;
  capPerHour?: number | undefined;
  now?: (() => number) | undefined;
}

/** What the phone channels keep: the calls and texts they placed, and a number that failed for good. */
export interface PhoneState extends PhoneRecords {
  markMethodFailed?: MarkMethodFailed | undefined;
}

/** Marks a person's method failed for good (paging/contact-methods.ts markFailed, wired by app.ts). */
export type MarkMethodFailed = (contact: string, method: string, address: string, reason: string, at: number) => Promise<void>;

/**
 * One person's phone at a time: a text every 30 s at most, a call every minute (a call lasts about
 * that long), and what comes meanwhile folded into one text or call ("7 new incidents; reply 4 to
 * acknowledge all").
 */
export const PHONE_PACE: Record<PhoneChannel, Pace> = {
  sms: { intervalMs: 30_000, foldAfterMs: 0 },
  voice: { intervalMs: 60_000, foldAfterMs: 0 },
};

/** Twilio lists a call or message it took usually within a second; ten leaves room for a slow day. */
export const LIST_WAIT_MS = 10_000;
/** How often the lookup looks again while it waits. */
const LIST_POLL_MS = 1_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** The phone number of an incident list in a URL: ids joined by dots. */
export const idsParam = (ids: readonly number[]) => ids.join('.');

/**
 * Texts (Messages.json) or calls (Calls.json) through Twilio, one person's number a target. A page
 * whose answer was lost is looked up in Twilio's list of recent messages or calls to that number
 * before it is placed again, so a timeout never rings a phone twice.
 */
export class PhoneNotifier implements Notifier {
  readonly wakes = true;
  readonly pace: Pace;
  readonly notConfigured: string | undefined;
  private readonly api: TwilioApi | undefined;
  private readonly from: string | undefined;
  private readonly now: () => number;

  constructor(
    readonly channel: PhoneChannel,
    private readonly s: PhoneSettings,
    private readonly state: PhoneState,
  ) {
    this.pace = { ...PHONE_PACE[channel], ...s.pace };
    this.from = channel === 'voice' ? (s.voiceFrom ?? s.from) : s.from;
    this.now = s.now ?? Date.now;
    this.notConfigured = !s.accountSid
      ? 'Twilio is not configured (TWILIO_ACCOUNT_SID unset)'
      : !s.authToken && !(s.apiKey && s.apiSecret)
        ? 'Twilio is not configured (TWILIO_AUTH_TOKEN, or TWILIO_API_KEY and TWILIO_API_SECRET, unset)'
        : !this.from
          ? `Twilio is not configured (${channel === 'voice' ? 'TWILIO_VOICE_FROM or ' : ''}TWILIO_FROM unset)`
          : channel === 'voice' && !s.publicUrl
            ? 'calls need PUBLIC_URL (Twilio fetches what the call says from it)'
            : undefined;
    this.api = this.notConfigured ? undefined : new TwilioApi(s as TwilioCredentials);
  }

  send({ page, incident }: PageContext): Promise<Delivery> {
    return this.place(page.target, contactOf(page), [page], [incident]);
  }

  sendDigest(target: string, items: DigestItem[]): Promise<Delivery> {
    return this.place(
      target,
      contactOf(items[0]!.page),
      items.map((i) => i.page),
      items.map((i) => i.incident),
    );
  }

  /**
   * Finds the call or text of a page whose last request had an unknown outcome, or undefined when
   * Twilio never took it. One empty list proves nothing (Twilio's lists lag behind what it took),
   * so the lookup keeps looking for listWaitMs of real time before it concludes "not sent". Each
   * look also reads the store: the status callback Twilio posts for a call or text it took names
   * its page in its URL and is recorded by sid, listed or not.
   */
  async findSent(ctx: PageContext): Promise<Delivery | undefined> {
    const deadline = Date.now() + (this.s.listWaitMs ?? LIST_WAIT_MS);
    for (;;) {
      const found = await this.lookOnce(ctx);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await sleep(Math.min(LIST_POLL_MS, left));
    }
  }

  private async lookOnce({ page, incident }: PageContext): Promise<Delivery | undefined> {
    // The page became due at createdAt; a minute of slack for clocks that disagree.
    const since = page.createdAt - 60_000;
    const recorded = await this.state.phoneMessagesTo(this.channel, page.target, since);
    const mine = recorded.find((m) => m.pageId === page.id);
    if (mine) return { externalRef: mine.sid };
    const api = this.requireApi();
    let recent;
    try {
      recent = await api.recent(this.channel === 'sms' ? 'Messages' : 'Calls', page.target, this.from!);
    } catch (err) {
      // Twilio unreachable: we cannot tell yet, so ask again later rather than risk a second call.
      const e = err instanceof NotifyError ? err : new NotifyError((err as Error).message, true);
      throw new NotifyError(`${e.message} (looking the page up)`, true, { retryAfterMs: e.retryAfterMs });
    }
    for (const r of recent) {
      const created = r.date_created ? Date.parse(r.date_created) : NaN;
      if (!(created >= since)) continue;
      // Another page's call or text to the same number is not this one.
      const known = await this.state.phoneMessage(r.sid);
      if (known && known.pageId !== page.id) continue;
      if (this.channel === 'sms' && !(r.body ?? '').includes(`#${incident.id} `)) continue;
      if (!known) await this.record(r.sid, r.status, page.target, contactOf(page), page.id, [incident.id!]);
      return { externalRef: r.sid };
    }
    return undefined;
  }

  abort(): void {
    this.api?.abort();
  }

  private async place(to: string, contact: string, pages: OutboxEntry[], incidents: IncidentWithDetails[]): Promise<Delivery> {
    const api = this.requireApi();
    const items: PhoneIncident[] = incidents.map((i) => ({ id: i.id!, severity: i.severity, title: i.title }));
    const ids = items.map((i) => i.id);
    const pageId = pages.length === 1 ? pages[0]!.id : null;
    if (this.channel === 'sms') {
      const allowed = textAllowance(
        (await this.state.phoneMessagesTo('sms', to, this.now() - 3_600_000)).map((m) => m.at),
        this.now(),
        this.s.capPerHour ?? TEXTS_PER_HOUR,
      );
      if (!allowed.ok)
        throw new NotifyError(
          `at most ${this.s.capPerHour ?? TEXTS_PER_HOUR} texts an hour to one person; the rest wait for one digest`,
          true,
          {
            retryAfterMs: allowed.until - this.now(),
          },
        );
    }
    const query = new URLSearchParams({
      incidents: idsParam(ids),
      contact,
      ...(pageId !== null ? { page: String(pageId) } : {}),
      // The last call of the person's rules: unanswered, it moves the escalation on.
      ...(pages.some((p) => p.personal?.lastOfMethod) ? { last: '1' } : {}),
    });
    const base = this.s.publicUrl?.replace(/\/+$/, '');
    await this.paceFrom();
    let r;
    try {
      if (this.channel === 'sms') {
        const url = items.length === 1 ? incidentUrl(base, items[0]!.id) : base ? `${base}/incidents` : undefined;
        const body = items.length === 1 ? pageText(items[0]!, url) : digestText(items, url);
        r = await api.createMessage({
          to,
          from: this.from!,
          body,
          statusCallback: base ? `${base}/twilio/sms/status?${query.toString()}` : undefined,
        });
      } else {
        r = await api.createCall({
          to,
          from: this.from!,
          url: `${base}/twilio/voice/answer?${query.toString()}`,
          statusCallback: `${base}/twilio/voice/status?${query.toString()}`,
        });
      }
    } catch (err) {
      if (err instanceof TwilioError && err.code !== undefined && NUMBER_FAILURES.has(err.code)) {
        // The number will never take this page: marked failed for the person, skipped until fixed.
        await this.state.markMethodFailed?.(
          contact,
          this.channel,
          to,
          `${NUMBER_FAILURES.get(err.code)!} (Twilio ${err.code})`,
          this.now(),
        );
      }
      throw err;
    }
    await this.record(r.sid, r.status, to, contact, pageId, ids);
    return { externalRef: r.sid };
  }

  private record(sid: string, status: string, to: string, contact: string, pageId: number | null, incidentIds: number[]): Promise<void> {
    const now = this.now();
    const m: PhoneMessage = { sid, channel: this.channel, to, contact, pageId, incidentIds, at: now, status, updatedAt: now };
    return this.state.savePhoneMessage(m);
  }

  private paceFrom(): Promise<void> {
    return waitForFromSlot(this.state, this.from!, this.s.fromIntervalMs ?? 1000, this.now());
  }

  private requireApi(): TwilioApi {
    if (!this.api) throw new NotifyError(this.notConfigured ?? 'Twilio is not configured', false);
    return this.api;
  }
}

/**
 * Waits for a from-number's next slot (Twilio's one request a second on a long code), shared by
 * every replica through the store: pages and verification codes from one number take turns.
 */
export async function waitForFromSlot(
  state: Pick<PhoneRecords, 'paceChannel'>,
  from: string,
  intervalMs: number,
  now: number,
): Promise<void> {
  if (intervalMs <= 0) return;
  const slot = await state.paceChannel(`twilio-from\n${from}`, (nextFree) => {
    const at = Math.max(now, nextFree);
    return { nextFree: at + intervalMs, result: at };
  });
  if (slot > now) await sleep(slot - now);
}

/** Whose phone a page rings: the person of its rule step. */
function contactOf(page: Pick<OutboxEntry, 'personal' | 'recipients'>): string {
  return page.personal?.contact ?? 'unknown';
}
