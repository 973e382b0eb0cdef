import type { Severity } from '../classify/severity.js';
import type { ComponentState, UpdateState } from './public-status.js';

/** The channels the service can page through; the registry (notify/registry.ts) has one notifier each. */
/** A channel's name, as notify/registry.ts lists them ('slack', 'email', ...). */
export type ChannelName = string;

/** How a person acted on an incident. */
export type Via = 'api' | 'slack' | 'web' | 'sms' | 'phone';

/** The actors that are not people: Alertmanager's notifications, and the service's own timers and outbox. */
export const ALERTMANAGER = 'alertmanager';
export const SYSTEM = 'system';

/** A person paged by an escalation step or a reminder: the contact id and the name it had then. */
export interface PagedPerson {
  id: string;
  name: string;
}

/**
 * One entry of an incident's append-only history, as data: `kind` says which fields it has. Words
 * are rendered late, by incidents/timeline-text.ts, so a page, a report or a metric can compute from
 * the fields instead of parsing prose.
 */
export type TimelineEntry = {
  at: number;
  /** Who acted: a contact id where known, otherwise the name given, `alertmanager` or `system`. */
  actor: string;
  /** Read back from the prose an earlier version wrote (store/legacy-timeline.ts): some fields are approximate. */
  legacy?: true;
  /**
   * The admin credential that recorded this entry for the actor, when the actor did not sign in as
   * themselves: API_TOKEN's automation naming whom it acts for (`by`), or the built-in form's sign-in
   * (API_TOKEN and a name typed). The actor is then a name given, not a person proved.
   */
  recordedBy?: string;
} & (
  | { kind: 'opened'; severity: Severity; rule: string; firing: number; respondBy: number; slaMs: number }
  | { kind: 'alert_firing'; fingerprint: string; alertname: string; severity: Severity; rule: string }
  | { kind: 'alert_resolved'; fingerprint: string; alertname: string }
  /** Many alerts of one notification at once: one entry for all of them, so the timeline stays bounded. */
  | { kind: 'alerts_changed'; firing: number; resolved: number; alertnames: { alertname: string; count: number }[] }
  /** respondBy and slaMs are set when the raise tightened the deadline. */
  | { kind: 'severity_raised'; from: Severity; to: Severity; rule: string; fingerprint: string; respondBy?: number; slaMs?: number }
  /** lateMs: how long after the deadline the miss was noticed (the service was down). */
  | { kind: 'sla_breached'; severity: Severity; respondBy: number; lateMs: number }
  /** whenResolving: nobody acknowledged, and resolving counted as the response. */
  | { kind: 'acknowledged'; by: string; via: Via; note?: string; whenResolving?: boolean }
  /** via alertmanager: every alert resolved (`alerts` of them). */
  | { kind: 'resolved'; by: string; via: Via | typeof ALERTMANAGER; note?: string; alerts?: number }
  | { kind: 'alerts_truncated'; count: number }
  | { kind: 'escalated'; step: number; steps: number; unackedMs: number; paged: PagedPerson[] }
  | { kind: 'reminder'; reminder: number; maxReminders: number; unackedMs: number; paged: PagedPerson[] }
  /** recipients: Slack members mentioned, or e-mail addresses. `folded`: in a digest of `digestOf` pages. */
  | {
      kind: 'paged';
      channel: ChannelName;
      target: string;
      event: PageEvent;
      recipients: string[];
      outcome: PagedOutcome;
      digestOf?: number;
    }
  /** attempts: how many were made before giving up. */
  | {
      kind: 'page_failed';
      channel: ChannelName;
      target: string;
      event: PageEvent;
      recipients: string[];
      outcome: PageFailure;
      reason: string;
      attempts?: number;
    }
  /**
   * Attempt `attempt` failed and another comes at `nextAttemptAt`. `unknownOutcome`: the answer was
   * lost (a timeout, a reset), so the channel is searched for the page before it is sent again.
   */
  | {
      kind: 'page_retrying';
      channel: ChannelName;
      target: string;
      event: PageEvent;
      recipients: string[];
      attempt: number;
      nextAttemptAt: number;
      reason: string;
      unknownOutcome?: boolean;
      /** With unknownOutcome: the channel keeps no history to search (Teams, e-mail, webhooks), so the page is sent again. */
      noLookup?: boolean;
    }
  /** The incident paged nobody: `route` (the config key, or `drill`) reaches no one, and no escalation step does. */
  | { kind: 'unpaged'; route: string }
  /**
   * What came of a call or text after it was placed (Twilio's status callbacks, a key pressed, a
   * reply): `contact` is the person behind the number. `escalating`: an unanswered last call moves
   * the escalation on at once.
   */
  | {
      kind: 'phone';
      channel: ChannelName;
      to: string;
      contact: string;
      name?: string;
      outcome: PhoneOutcome;
      digit?: string;
      escalating?: boolean;
      detail?: string;
    }
  | { kind: 'note'; text: string }
  | { kind: 'checklist'; step: string; state: ChecklistState; note?: string }
  /** The post-incident fields as saved (the whole set each time: the latest entry is what stands). */
  | { kind: 'review'; rootCause: string; impact: string; prevention: string }
  /**
   * A silence made in Alertmanager from the incident: the whole group (its group labels) or one
   * alert (its labels), until `endsAt`; `untilResolved` ends it when the incident resolves, and
   * `keepAfterResolve` keeps a timed one past the resolution (chosen on purpose).
   */
  | {
      kind: 'silenced';
      silenceId: string;
      scope: 'group' | 'alert';
      matchers: string;
      endsAt: number;
      untilResolved: boolean;
      keepAfterResolve: boolean;
    }
  /** A silence expired: by a person ("Expire now"), or by the service when the incident resolved. */
  | { kind: 'silence_expired'; silenceId: string; reason: 'by_hand' | 'incident_resolved' }
  /** A silence made here ends soon while the incident is still open: the channel is told once. */
  | { kind: 'silence_ending'; silenceId: string; endsAt: number; matchers: string }
  /**
   * A public update posted to the status page (docs/status-page.md): only what the person wrote for
   * the public and the components' statuses they confirmed; `subscribers`: how many were to be e-mailed.
   */
  | {
      kind: 'status_update';
      state: UpdateState;
      title: string;
      message: string;
      components: ComponentState[];
      subscribers: number;
    }
);

/** What an entry records; each kind has its own fields. */
export type TimelineKind = TimelineEntry['kind'];

/** The entry of one kind, with its fields. */
export type EntryOf<K extends TimelineKind> = Extract<TimelineEntry, { kind: K }>;

/** What happened to an incident that a page tells people about. */
export type PageEvent = Extract<
  TimelineKind,
  | 'opened'
  | 'severity_raised'
  | 'sla_breached'
  | 'escalated'
  | 'reminder'
  | 'acknowledged'
  | 'resolved'
  | 'review'
  | 'silenced'
  | 'silence_ending'
  | 'status_update'
>;

/** sent; found already delivered (after an unknown outcome: a crash, a timeout, a lease taken over); folded into a digest. */
export type PagedOutcome = 'sent' | 'found' | 'folded';

/**
 * skipped: the channel is not configured; failed: a permanent error; gave_up: out of retries;
 * rejected: one recipient refused; stopped: a call or text not sent because the incident was
 * acknowledged or resolved before it was due.
 */
export type PageFailure = 'skipped' | 'failed' | 'gave_up' | 'rejected' | 'stopped';

/**
 * A call: ringing, answered, key_pressed (digit), no_answer, busy, failed, hung_up (answered, no key).
 * A text: delivered, undelivered, replied, stop (the person replied STOP: texts are skipped until START), start.
 */
export type PhoneOutcome =
  | 'ringing'
  | 'answered'
  | 'key_pressed'
  | 'no_answer'
  | 'busy'
  | 'failed'
  | 'hung_up'
  | 'delivered'
  | 'undelivered'
  | 'replied'
  | 'stop'
  | 'start';

/** A checklist step ticked, unticked, or marked as a problem (the plan's Verification Log ⚠️). */
export type ChecklistState = 'done' | 'undone' | 'problem';

/** Who acts on an incident: the name shown, the contact id when the person is a known contact, and how. */
export interface Responder {
  name: string;
  contact?: string | undefined;
  via: Via;
  /** The admin credential that acts for this person, when they did not sign in as themselves (TimelineEntry.recordedBy). */
  recordedBy?: string | undefined;
}

/** The actor a responder is recorded as. */
export function actorOf(r: Responder): string {
  return r.contact ?? r.name;
}

/** The fields of a timeline entry that say who made it: the actor, and what recorded it for them when not themselves. */
export function actorFields(r: Responder): { actor: string; recordedBy?: string } {
  return r.recordedBy ? { actor: actorOf(r), recordedBy: r.recordedBy } : { actor: actorOf(r) };
}
