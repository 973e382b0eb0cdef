import type {
  GroupNotification,
  Incident,
  IncidentChange,
  IncidentState,
  IncidentStatus,
  IncidentWithDetails,
} from '../incidents/model.js';
import type { Lease, NewNotice, OutboxEntry, PageOutcome } from '../outbox/page.js';
import type { PaceDecider } from '../outbox/ports.js';
import type { ChannelName } from '../incidents/timeline.js';
import type { NewOverride, OncallLogEntry, OncallRequest, RuntimeOverride } from '../paging/oncall.js';
import type { Severity } from '../classify/severity.js';
import type { PhoneRecords } from '../notify/channel-definition.js';
import type { PersonSettings } from '../paging/contact-methods.js';
import type { Identity, SignInMethod } from '../people/person.js';
import type { Alert } from '../incidents/model.js';
import type { StepStatus } from '../incidents/checklist.js';
import type { TimelineEntry, TimelineKind } from '../incidents/timeline.js';
import type { StatusUpdateRecord } from '../incidents/status-page.js';

/** Filters of GET /api/incidents. */
export interface IncidentFilter {
  status?: IncidentStatus;
  severity?: Severity;
  limit: number;
  /** Newest-first incidents to skip, for the incident list's pages; 0 when left out. */
  offset?: number;
}

/** A window of an incident's alerts: skip `offset`, read at most `limit`. */
export interface AlertWindow {
  offset: number;
  limit: number;
}

/** Where a page of the timeline ends: the oldest entry shown (its time and its row id); the next page is older. */
export interface TimelineCursor {
  at: number;
  id: number;
}

/** A page of an incident's timeline, newest first: at most `limit` entries older than `before` (the newest when left out), of `kinds` only if given. */
export interface TimelineQuery {
  before?: TimelineCursor | undefined;
  limit: number;
  kinds?: readonly TimelineKind[] | undefined;
}

/** The entries of a TimelineQuery in time order (oldest first), and the cursor of the next older page, null when there is none. */
export interface TimelinePage {
  entries: TimelineEntry[];
  older: TimelineCursor | null;
}

/** An incident without its timeline, as the pages and the API read it: one window of its alerts, their count, and its version. */
export type IncidentHead = Incident & {
  id: number;
  /** Moves on every committed change to the incident, its alerts, its timeline or its checklist: the live pages poll it. */
  version: number;
  alertCount: number;
  alerts: Alert[];
};

/** What a bounded report reads of an incident's alerts: counts, the earliest start, and the most frequent names. */
export interface AlertSummary {
  count: number;
  firing: number;
  /** The earliest positive startsAt, null when no alert has one. */
  earliestStart: number | null;
  /** The `limit` most frequent alertnames (the fingerprint where an alert has none), most frequent first. */
  byName: { alertname: string; count: number; firing: number }[];
}

/** Counts by severity that the gauges are rebuilt from on every scrape. */
export interface IncidentCounts {
  open: Record<Severity, number>;
  breachedOpen: Record<Severity, number>;
}

/** An incident as committed, with the change that was applied to it. */
export interface CommittedChange extends IncidentChange {
  incident: Incident & { id: number };
}

/** What one notification did to its group. */
export interface NotificationOutcome {
  /** The committed change; null when the notification changed nothing (a re-delivery). */
  change: CommittedChange | null;
  /**
   * The incident the notification concerns, as it stands after it: the changed one, else the
   * group's active incident, else its most recently resolved one; null when the group has none.
   */
  incident: (Incident & { id: number }) | null;
}

/**
 * Decides the change for one notification from the group's active incident and its most
 * recently resolved one. Runs inside the store's transaction, so it must be pure and quick.
 */
export type NotificationDecider = (
  active: IncidentState | null,
  previous: IncidentState | null,
  notification: GroupNotification,
) => IncidentChange | null;

export type { Lease } from '../outbox/page.js';
import type { HeartbeatKind } from '../incidents/heartbeat.js';
export type { PaceDecider } from '../outbox/ports.js';

/**
 * How urgent a notification is, 0 the most (a severity's rank). Asked for only when more
 * notifications wait for the store than its next transaction takes: those go most urgent first, so
 * that in a storm a Critical is not queued behind thousands of Lows. Each group's own notifications
 * keep their order.
 */
export type Urgency = () => number;

/** Decides the change for one existing incident (acknowledge, resolve, SLA sweep). */
export type IncidentDecider = (incident: Incident) => IncidentChange | null;

/**
 * Incidents, their alerts and their append-only timeline: what notifications, people and sweeps
 * change, and what the API and the metrics read.
 */
export interface IncidentRecords {
  /** Applies one notification in one transaction; `urgency` orders the ones waiting (a store may apply all at once). */
  applyNotification(notification: GroupNotification, decide: NotificationDecider, urgency?: Urgency): Promise<NotificationOutcome>;
  /** Applies a decision to one incident in one transaction; undefined when there is no such incident. */
  updateIncident(id: number, decide: IncidentDecider): Promise<{ incident: Incident; change: CommittedChange | null } | undefined>;
  /**
   * Applies a decision to each unresolved, unacknowledged, unbreached incident whose deadline is at
   * or before `now`, earliest first, at most `limit` of them in this transaction.
   */
  sweepOverdue(now: number, decide: IncidentDecider, limit?: number): Promise<CommittedChange[]>;
  /** Applies a decision to each open incident whose next escalation is due at or before `now`, at most `limit`. */
  sweepEscalations(now: number, decide: IncidentDecider, limit?: number): Promise<CommittedChange[]>;
  /**
   * One incident with its timeline and its alerts in start order (all of them, or the window asked
   * for, so that an incident of 100,000 alerts can be read in pages), and how many alerts it has.
   */
  getIncident(id: number, alerts?: AlertWindow): Promise<(IncidentWithDetails & { alertCount: number }) | undefined>;
  /** One incident without its timeline: a window of its alerts, their count and its version; reads no timeline entry. */
  incidentHead(id: number, alerts: AlertWindow): Promise<IncidentHead | undefined>;
  /** The incident's row alone, with its version: no alert, no timeline entry. */
  incident(id: number): Promise<(Incident & { id: number; version: number }) | undefined>;
  /** The incident's version alone (IncidentHead.version), one row: what a live page polls. Undefined when there is no such incident. */
  incidentVersion(id: number): Promise<number | undefined>;
  /** A page of the timeline, newest first (see TimelineQuery); reads at most `limit` + 1 entries. */
  timelinePage(id: number, query: TimelineQuery): Promise<TimelinePage>;
  /** The oldest `limit` entries, in time order. */
  timelineHead(id: number, limit: number): Promise<TimelineEntry[]>;
  /** How many entries the timeline holds. */
  timelineCount(id: number): Promise<number>;
  /** Where each checklist step that was ever marked stands (its latest mark), kept as marks are written: one row a step. */
  checklistState(id: number): Promise<Map<string, StepStatus>>;
  /** The alerts' counts and their `limit` most frequent names. */
  alertSummary(id: number, limit: number): Promise<AlertSummary>;
  listIncidents(filter: IncidentFilter): Promise<Incident[]>;
  counts(now: number): Promise<IncidentCounts>;
}

/**
 * The durable outbox of pages: written with the change that asks for them (IncidentRecords), then
 * claimed, leased and completed by the dispatchers.
 */
export interface OutboxStore {
  /**
   * Claims up to `limit` pages, most severe first, under `lease`: the due pending ones, and the ones
   * left `sending` under a lease that ran out by `now` (their sender died or stalled; such a page
   * comes back maybeSent, so it is looked up before it is sent again). A page under a live lease is
   * never handed out. Pages to a `busy` target (`${channel}\n${target}`, a send to it is in flight
   * in this process) are left for later.
   */
  claimPages(now: number, limit: number, lease: Lease, busy?: readonly string[]): Promise<OutboxEntry[]>;
  /**
   * Moves the lease of the pages `owner` is sending (those of `ids`, or all of them) to `until`: a
   * heartbeat, or `now` to hand them over at once. Returns how many.
   */
  renewLeases(owner: string, until: number, ids?: readonly number[]): Promise<number>;
  /**
   * Puts back in the queue, marked maybeSent, the pages whose sender is gone: those whose lease ran
   * out by `now`, and, on a store only one process uses (SQLite), every page left `sending`, since
   * the process that claimed it can only be this one's dead predecessor. Returns how many.
   */
  recoverInFlight(now: number): Promise<number>;
  /**
   * Records how a send ended, with its timeline entry, in one transaction, if `owner` still holds
   * the page; false (and nothing written) when its lease ran out and another dispatcher took it over.
   */
  completePage(id: number, outcome: PageOutcome, now: number, owner: string): Promise<boolean>;
  /**
   * The incidents of claimed pages, each with every alert and its timeline as getIncident gives them,
   * in one read whatever their number (the dispatcher read them one statement each); an id with no
   * incident is left out. Alerts and timeline may be decoded only when first used: a digest names
   * each incident by its title and never looks at them.
   */
  getIncidents(ids: readonly number[]): Promise<Map<number, IncidentWithDetails>>;
  /** Pages waiting or being sent, by channel; a channel with none is left out. */
  queueDepth(): Promise<Record<ChannelName, number>>;
  /** Pages still to be delivered whose last attempt failed, by channel; a channel with none is left out. */
  retryingPages(): Promise<Record<ChannelName, number>>;
  /**
   * Calls `listener` soon after any process (another replica too) commits pages to send, so that its
   * dispatcher claims them at once instead of at its next poll. Optional: a store only one process
   * uses (SQLite) leaves it out, and the in-process wake-up on commit is enough. Best effort: the
   * dispatcher's polling stays the safety net. `targets`, when known, are where the pages go (a
   * dispatcher whose sends to all of them are under way need not claim now).
   */
  onPagesCommitted?(listener: (targets?: PageTarget[]) => void): void;
}

/** Where a page goes: a dispatcher sends to one target at a time. */
export type PageTarget = Pick<OutboxEntry, 'channel' | 'target'>;

/** What the channels keep between sends: the pace of each paced target and the message that announced an incident. */
export interface ChannelStateStore {
  /**
   * Paces a target (the outbox's targetKey) across every process: calls `decide` with when it may
   * take its next message and stores the answer, atomically: if another process moved the time
   * meanwhile, `decide` runs again on the new one (so it must be pure), and only one takes a slot.
   */
  paceChannel<T>(target: string, decide: PaceDecider<T>): Promise<T>;
  /** The Slack message that announced an incident in a channel, for chat.update and thread replies. */
  slackMessage(incidentId: number, target: string): Promise<{ channelId: string; ts: string } | undefined>;
  saveSlackMessage(incidentId: number, target: string, channelId: string, ts: string): Promise<void>;
}

/** A page of the run-time overrides not yet ended at `endingAfter`, by id. */
export interface OverridePage {
  endingAfter: number;
  /** One rotation's: a team id, or null for the top level's; every rotation's when left out. */
  team?: string | null;
  /** The last id of the page before. */
  afterId?: number;
  limit: number;
}

/** The answer to a pending on-call request, with the overrides an acceptance makes. */
export interface RequestDecision {
  status: 'accepted' | 'declined' | 'cancelled';
  by: string;
  at: number;
  overrides: NewOverride[];
  /** The per-rotation bound on open overrides (an override beyond it is not made). */
  maxOpen: number;
  /** Notices of the answer (to whoever asked), queued with it. */
  notices?: NewNotice[];
}

/** A handoff to announce: a rotation ('' for the top level's) whose shift starts at `shiftStart` with `contact`. */
export interface HandoffClaim {
  rotation: string;
  shiftStart: number;
  contact: string;
  at: number;
}

/** A calendar feed's secret URL: only the SHA-256 of its token is stored. */
export interface CalendarFeed {
  id: number;
  tokenHash: string;
  /** One person's shifts (subject: a contact id) or a team's (subject: a team id, '' for the top level's). */
  scope: 'contact' | 'team';
  subject: string;
  /** Who made it (the viewer's name); they alone list and revoke it. */
  createdBy: string;
  createdAt: number;
  revokedAt: number | null;
}
export type NewCalendarFeed = Omit<CalendarFeed, 'id' | 'revokedAt'>;

/**
 * Run-time on-call records (the on-call API and pages): overrides, the on-call log that every change
 * of them writes in the same transaction, requests that another person answers, calendar feeds.
 */
export interface OverrideStore {
  /** The overrides in force at `at`, oldest first: what a paging decision reads (an index, not a scan). */
  overridesAt(at: number): Promise<RuntimeOverride[]>;
  /** The overrides that overlap [from, to), oldest first (the schedule, the feeds). */
  overridesBetween(from: number, to: number): Promise<RuntimeOverride[]>;
  /** A page of the overrides not yet ended, by id. */
  listOverrides(page: OverridePage): Promise<RuntimeOverride[]>;
  getOverride(id: number): Promise<RuntimeOverride | undefined>;
  /** Stores it and its log entry; undefined when its rotation has `maxOpen` overrides not yet ended at `at`. */
  addOverride(override: NewOverride, maxOpen: number, at: number): Promise<RuntimeOverride | undefined>;
  /** Ends it at `at` (one not started yet is cancelled); undefined when there is no live override `id` that ends later. */
  endOverride(id: number, at: number, by: string): Promise<RuntimeOverride | undefined>;
  /** Removes it (kept as void, with its log entry). False when there was no such override. */
  deleteOverride(id: number, by: string, at: number): Promise<boolean>;
  /** Marks void, with `reason`, the overrides not yet ended whose contact is not in `keep`; returns them. */
  voidOverrides(keep: readonly string[], at: number, reason: string): Promise<RuntimeOverride[]>;
  /** The newest entries of the on-call log, newest first: one rotation's, or all. */
  oncallLog(q: { team?: string | null; limit: number }): Promise<OncallLogEntry[]>;
  /** Stores a request with its log entry and the notices that tell the person asked, in one transaction. */
  addOncallRequest(r: Omit<OncallRequest, 'id' | 'status' | 'decidedAt' | 'decidedBy'>, notices?: NewNotice[]): Promise<OncallRequest>;
  getOncallRequest(id: number): Promise<OncallRequest | undefined>;
  pendingOncallRequests(contact: string): Promise<OncallRequest[]>;
  /** Answers a pending request (once: undefined when it was answered already). */
  decideOncallRequest(id: number, d: RequestDecision): Promise<{ request: OncallRequest; overrides: RuntimeOverride[] } | undefined>;
  /**
   * Claims the announcement of a handoff and queues its notices (pages of no incident) in the same
   * transaction: true for the one caller, on any replica, that claims that rotation's shift start.
   * The first shift start the store holds of a rotation is a baseline: claimed, its notices not queued, false.
   */
  claimHandoff(h: HandoffClaim, notices: NewNotice[]): Promise<boolean>;
  addCalendarFeed(f: NewCalendarFeed): Promise<CalendarFeed>;
  calendarFeedByHash(hash: string): Promise<CalendarFeed | undefined>;
  calendarFeeds(createdBy: string): Promise<CalendarFeed[]>;
  revokeCalendarFeed(id: number, createdBy: string, at: number): Promise<boolean>;
}

/** What people keep about how they are reached (paging/contact-methods.ts), and the calls and texts placed. */
export interface ContactStore extends Omit<PhoneRecords, 'paceChannel'> {
  contactSettings(contact: string): Promise<PersonSettings | undefined>;
  /** Every person's settings, by contact id: what a paging decision reads. */
  allContactSettings(): Promise<Map<string, PersonSettings>>;
  /**
   * Reads one person's settings (NO_SETTINGS when none), lets `change` decide, and writes its answer
   * atomically: if another process wrote meanwhile, `change` runs again on the new settings (so it
   * must be pure). `settings` undefined writes nothing.
   */
  updateContactSettings<T>(contact: string, change: (s: PersonSettings) => { settings?: PersonSettings; result: T }): Promise<T>;
}

/** A signed-in browser: the cookie holds a random id, the store only its SHA-256 (`idHash`). */
export interface SessionRecord {
  idHash: string;
  person: Identity;
  via: SignInMethod;
  createdAt: number;
  expiresAt: number;
  /** The browser that signed in, for the person's list of sessions. */
  userAgent: string | null;
  /**
   * The identity provider's ID token of an OpenID Connect sign-in, kept only when the provider
   * advertises an end_session_endpoint: sign-out sends it back as id_token_hint to end the
   * provider's session too. Never logged; deleted with the session.
   */
  idToken?: string | null | undefined;
}

/** A personal API token: only its SHA-256 is kept; `prefix` (its public start) names it on /me. */
export interface ApiTokenRecord {
  id: number;
  prefix: string;
  hash: string;
  person: Identity;
  /** What its maker called it ("laptop CLI"). */
  label: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/**
 * Web sessions and personal API tokens, in the store so that every replica sees a sign-out, an
 * expiry and a revocation at once.
 */
export interface PeopleStore {
  createSession(session: SessionRecord): Promise<void>;
  /** The session, unless it has ended or expired by `now`. */
  getSession(idHash: string, now: number): Promise<SessionRecord | undefined>;
  /** Ends one session (of `personKey` only, when given); false when there was none. */
  endSession(idHash: string, personKey?: string): Promise<boolean>;
  /** A person's sessions not expired by `now`, newest first. */
  listSessions(personKey: string, now: number): Promise<SessionRecord[]>;
  /** Ends every session of a person; how many. */
  endSessionsOf(personKey: string): Promise<number>;
  /** Deletes the sessions expired by `now`; how many. */
  sweepSessions(now: number): Promise<number>;
  createApiToken(token: Omit<ApiTokenRecord, 'id' | 'lastUsedAt'>): Promise<ApiTokenRecord>;
  apiTokenByHash(hash: string): Promise<ApiTokenRecord | undefined>;
  listApiTokens(personKey: string): Promise<ApiTokenRecord[]>;
  /** Deletes a token (of `personKey` only, when given); false when there was none. */
  revokeApiToken(id: number, personKey?: string): Promise<boolean>;
  touchApiToken(id: number, at: number): Promise<void>;
}

/** A heartbeat the service expects: an Alertmanager's Watchdog or a monitor's POST, with its next deadline. */
export interface HeartbeatRecord {
  kind: HeartbeatKind;
  name: string;
  /** The last beat; null while none has come (the deadline then counts from when it was first expected). */
  lastBeatAt: number | null;
  deadline: number;
}

/** The deadlines of heartbeats, shared by every replica so that a missed one is noticed once. */
export interface HeartbeatStore {
  /** Records a beat at `at`: the deadline becomes at + timeoutMs. Returns the deadline it had before (undefined if it was unknown). */
  beat(kind: HeartbeatKind, name: string, at: number, timeoutMs: number): Promise<number | undefined>;
  /** Adds heartbeats not known yet with their first deadline; known ones keep theirs. */
  expectHeartbeats(expected: readonly { kind: HeartbeatKind; name: string; deadline: number }[]): Promise<void>;
  listHeartbeats(): Promise<HeartbeatRecord[]>;
}

/** A silence made in Alertmanager from an incident page, as this service remembers it. */
export interface SilenceRecord {
  silenceId: string;
  incidentId: number;
  createdBy: string;
  endsAt: number;
  untilResolved: boolean;
  keepAfterResolve: boolean;
  /** When its incident's channel was told it ends soon; null until then. */
  notifiedAt: number | null;
  /** When the service or a person expired it; null while it may still be active. */
  expiredAt: number | null;
}

/** The silences made here: what is expired when the incident resolves, and told about before it ends. */
export interface SilenceStore {
  addSilence(s: Omit<SilenceRecord, 'notifiedAt' | 'expiredAt'>): Promise<void>;
  silencesOf(incidentId: number): Promise<SilenceRecord[]>;
  /**
   * The silences not yet expired that need the service now, with their incident's status: those of
   * a resolved incident that are to go with it (until resolved, or not kept on purpose), and timed
   * ones of an unresolved incident ending by `noticeBy` and not yet told about.
   */
  silencesDue(noticeBy: number): Promise<(SilenceRecord & { incidentResolved: boolean })[]>;
  /** Claims the notice of silence `id`: true for the one caller that sets notifiedAt. */
  claimSilenceNotice(id: string, at: number): Promise<boolean>;
  /** Records silence `id` as expired: true for the one caller that sets expiredAt. */
  markSilenceExpired(id: string, at: number): Promise<boolean>;
}

/** One matcher of a maintenance window, as Alertmanager's API v2 writes it. */
export interface WindowMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

/** A maintenance window: Alertmanager silences for a time to come, as this service remembers them. */
export interface MaintenanceWindow {
  id: number;
  title: string;
  /** Internal: never shown on the status page. */
  description: string;
  startsAt: number;
  endsAt: number;
  /** Groups of matchers: each group is one silence (its matchers all hold), in the order of silenceIds. */
  matchers: WindowMatcher[][];
  silenceIds: string[];
  createdBy: string;
  createdAt: number;
  /** The status page's components it affects (ids of statusPage.components); may be empty. */
  components: string[];
  /** Shown on the status page (its title, publicText and components, nothing else). */
  public: boolean;
  publicText: string;
  cancelledAt: number | null;
  cancelledBy: string | null;
}

export type NewMaintenanceWindow = Omit<MaintenanceWindow, 'id' | 'cancelledAt' | 'cancelledBy'>;

/** The maintenance windows. */
export interface MaintenanceStore {
  addMaintenanceWindow(w: NewMaintenanceWindow): Promise<MaintenanceWindow>;
  getMaintenanceWindow(id: number): Promise<MaintenanceWindow | undefined>;
  /**
   * The windows not cancelled that end after `endingAfter`, the soonest start first, at most
   * `limit`; with `publicOnly`, those marked public alone.
   */
  maintenanceWindows(q: { endingAfter: number; limit: number; publicOnly?: boolean }): Promise<MaintenanceWindow[]>;
  /** Cancels window `id` (once): the window as cancelled, undefined when it was not there or already cancelled. */
  cancelMaintenanceWindow(id: number, by: string, at: number): Promise<MaintenanceWindow | undefined>;
}

/** A status page subscriber (docs/status-page.md): personal data, never shown on a page. */
export interface StatusSubscriber {
  id: number;
  /** Lower-cased. */
  email: string;
  /** Only these components' updates; null: every update. */
  components: string[] | null;
  /** The secret of the confirmation link; null once confirmed. */
  confirmToken: string | null;
  /** The secret of the one-click unsubscribe link in every e-mail. */
  unsubscribeToken: string;
  createdAt: number;
  confirmedAt: number | null;
  /** When the last confirmation e-mail was queued (in the outbox, with the request). */
  confirmSentAt: number | null;
}

/** A request to subscribe, with the bounds on confirmation e-mails to one address. */
export interface NewSubscription {
  email: string;
  components: string[] | null;
  confirmToken: string;
  unsubscribeToken: string;
  at: number;
  minIntervalMs: number;
  maxMails: number;
  /** Who asks (a hash of the client's address) and how many requests it may make, counted in the same transaction. */
  client?: { key: string; rule: SubscribeAttemptRule };
}

/**
 * queued: a confirmation e-mail is in the outbox; limited: one was queued too recently (or too many);
 * subscribed: confirmed already; clientLimitedUntil: the client made too many requests, nothing was
 * done, and it may ask again then.
 */
export type SubscribeOutcome = 'queued' | 'limited' | 'subscribed' | { clientLimitedUntil: number };

/** How many subscribe requests one client may make in a sliding window, counted for every replica. */
export interface SubscribeAttemptRule {
  max: number;
  windowMs: number;
}

/** The status page's records: public updates (from the timeline) and subscribers (store/status-records.ts). */
export interface StatusStore {
  /** The public updates of incidents updated publicly at or after `since`, or not resolved; oldest first, at most `limit`. */
  statusUpdates(since: number, limit: number): Promise<StatusUpdateRecord[]>;
  /** Counts the client's request, writes or refreshes the subscription and, when due, queues its confirmation e-mail in the outbox: one transaction. */
  subscribe(s: NewSubscription): Promise<SubscribeOutcome>;
  /** Deletes the subscribe requests counted before `before` (out of every client's window). */
  sweepSubscribeAttempts(before: number): Promise<number>;
  confirmSubscription(token: string, now: number): Promise<boolean>;
  unsubscribe(token: string): Promise<boolean>;
  subscriber(id: number): Promise<StatusSubscriber | undefined>;
  confirmedSubscribers(): Promise<{ id: number; components: string[] | null }[]>;
  listSubscribers(): Promise<StatusSubscriber[]>;
  deleteSubscriber(email: string): Promise<boolean>;
  sweepUnconfirmed(before: number): Promise<number>;
}

/**
 * Durable storage of incidents, their alerts and their append-only timeline, the outbox, the
 * channels' state and the overrides: one object per engine, since a change and the pages it asks
 * for commit in one transaction.
 * Every implementation passes test/store/conformance.ts: SQLite (the embedded default) and PostgreSQL.
 * Every method that writes commits before its promise resolves, and throws StoreUnavailableError
 * for a failure that a retry may cure.
 */
export interface IncidentStore
  extends
    IncidentRecords,
    OutboxStore,
    ChannelStateStore,
    OverrideStore,
    PeopleStore,
    ContactStore,
    HeartbeatStore,
    SilenceStore,
    MaintenanceStore,
    StatusStore {
  /** Resolves when the store can answer a query; for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A failure that may pass (disk full, database locked, connection lost): the webhook answers 503. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
