import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { checklistFor, type ChecklistConfig } from '../incidents/checklist.js';
import type { Incident } from '../incidents/model.js';
import {
  componentViews,
  publicIncidents,
  SETTABLE_STATUSES,
  UPDATE_STATES,
  type ComponentState,
  type ComponentView,
  type PublicIncident,
  type PublicMaintenance,
  type PublicUpdate,
  type StatusPageConfig,
} from '../incidents/status-page.js';
import type { Responder } from '../incidents/timeline.js';
import type { IncidentStore } from '../store/store.js';
import type { ActionResult, IncidentService } from './incident-service.js';

/** What /status shows, read at one time and kept for a few seconds (docs/status-page.md). */
export interface StatusSnapshot {
  title: string;
  /** When it was read from the store. */
  at: number;
  components: ComponentView[];
  active: PublicIncident[];
  /** Resolved within the window, newest first. */
  past: PublicIncident[];
  maintenance: PublicMaintenance[];
  /** The store could not be read: this is the last snapshot that could. */
  stale: boolean;
}

/**
 * Scheduled maintenance the public may see. Issue 22's maintenance windows plug in here when they
 * land ("Close the loop"); until then the status page has none.
 */
export type MaintenanceSource = (now: number) => Promise<PublicMaintenance[]>;

export interface StatusServiceDeps {
  store: IncidentStore;
  incidents: IncidentService;
  clock: Clock;
  config: { readonly current: { statusPage: StatusPageConfig; checklists: ChecklistConfig } };
  /** Whether subscribers can be e-mailed, confirmations and updates (the status-email channel is configured). */
  canEmailUpdates: boolean;
  /** Tells this replica's dispatcher that a confirmation e-mail was queued (the others hear the store's NOTIFY). */
  wake?: () => void;
  /** The status page's own address (STATUS_PUBLIC_URL, else PUBLIC_URL); its pages are under /status, for links in e-mails and feeds. */
  publicUrl: string | undefined;
  maintenance?: MaintenanceSource;
  /** How long a snapshot is served before the store is read again (default 5 s). */
  cacheMs?: number;
  log?: { warn(obj: object, msg: string): void };
}

const DAY = 86_400_000;
/** Days of history the page shows. */
export const STATUS_DAYS = 90;
/** Updates read at most for one snapshot. */
const UPDATES_READ = 5000;
/** Unconfirmed subscriptions are deleted after a week. */
export const UNCONFIRMED_TTL_MS = 7 * DAY;
/** Confirmation e-mails to one address: at most this many, an hour apart, while it is unconfirmed (in the store: every replica). */
export const CONFIRMATIONS = { maxMails: 3, minIntervalMs: 3600_000 } as const;
/**
 * Subscribe requests: per client address for every replica together (counted in the store), and per
 * client and per e-mail address on each replica (in memory, checked first, so that a flood is
 * refused without a write).
 */
export const SUBSCRIBE_LIMITS = {
  byClient: { max: 10, windowMs: 10 * 60_000 },
  byEmail: { max: 3, windowMs: 60 * 60_000 },
} as const;
const EMAIL =
  /^[^\s@<>()[\]\\,;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** A bad form: the message is for the person who filled it in. */
export class StatusInputError extends Error {
  override name = 'StatusInputError';
}

/** An address as kept: trimmed and lower-cased, or undefined when it is no address. */
export function normalizeEmail(raw: string): string | undefined {
  const email = raw.trim().toLowerCase();
  return email.length <= 254 && EMAIL.test(email) ? email : undefined;
}

const token = () => randomBytes(24).toString('base64url');

/** What the store keeps of a client's address: a hash, never the address itself. */
export const clientHash = (client: string) => createHash('sha256').update(`status-subscribe\n${client}`).digest('base64url').slice(0, 32);

/**
 * The status page (docs/status-page.md): public updates posted from an incident, the snapshot
 * /status and its feeds are rendered from, and the subscribers' life (ask, confirm, leave). A
 * confirmation e-mail is an outbox notice queued with the request; the scheduler's pass deletes the
 * subscriptions left unconfirmed for a week.
 */
export class StatusService {
  private cached: StatusSnapshot | undefined;
  private loading: Promise<StatusSnapshot> | undefined;

  constructor(private readonly deps: StatusServiceDeps) {}

  get config(): StatusPageConfig {
    return this.deps.config.current.statusPage;
  }

  /** Whether the subscribe form is offered: the status-email channel, which sends confirmations and updates, is configured. */
  get subscriptionsOpen(): boolean {
    return this.deps.canEmailUpdates;
  }

  get publicUrl(): string | undefined {
    return this.deps.publicUrl;
  }

  /**
   * Checks a posted update against the config: a state, a title and a message, and only known
   * components with a status a person may set. Throws StatusInputError with what is wrong.
   */
  validate(input: { state: string; title: string; message: string; components: Record<string, string> }): PublicUpdate {
    const state = UPDATE_STATES.find((s) => s === input.state);
    if (!state) throw new StatusInputError(`"${input.state}" is not a state (${UPDATE_STATES.join(', ')}).`);
    const title = input.title.replace(/\s+/g, ' ').trim();
    const message = input.message.replace(/\r\n/g, '\n').trim();
    if (!title) throw new StatusInputError('The public title is empty.');
    if (!message) throw new StatusInputError('The update is empty: say what users should know.');
    const known = new Set(this.config.components.map((c) => c.id));
    const components: ComponentState[] = [];
    for (const [id, status] of Object.entries(input.components)) {
      if (!known.has(id)) throw new StatusInputError(`There is no component "${id}".`);
      if (status === '') continue;
      const s = SETTABLE_STATUSES.find((x) => x === status);
      if (!s) throw new StatusInputError(`"${status}" is not a component status.`);
      components.push({ id, status: s });
    }
    // A resolved update puts every component it names back to operational, whatever was chosen.
    return {
      state,
      title,
      message,
      components: state === 'resolved' ? components.map((c) => ({ ...c, status: 'operational' })) : components,
    };
  }

  /** Posts an update from the incident page: it goes public at once and, with `notify`, to the subscribers who want it. */
  async post(incident: Incident & { id: number }, who: Responder, update: PublicUpdate, notify: boolean): Promise<ActionResult> {
    const { statusPage, checklists } = this.deps.config.current;
    const steps = checklistFor(checklists, incident).flatMap((s) => s.steps);
    const emailing = notify && this.deps.canEmailUpdates;
    const recipients = emailing ? await this.deps.store.confirmedSubscribers() : [];
    const result = await this.deps.incidents.postStatusUpdate(incident.id, who, update, {
      recipients,
      updatedStep: steps.includes(statusPage.updatedStep) ? statusPage.updatedStep : null,
      notify: emailing,
    });
    // This replica shows it at once; the others within their cache's few seconds.
    this.cached = undefined;
    return result;
  }

  /**
   * What /status shows, from the store at most once per cache period however many ask (one read in
   * flight at a time). A failing store serves the last snapshot, marked stale: the page never needs
   * the store to be writable, and not even readable once it has been read.
   */
  async snapshot(): Promise<StatusSnapshot> {
    const now = this.deps.clock.now();
    if (this.cached && now - this.cached.at < (this.deps.cacheMs ?? 5000)) return this.cached;
    this.loading ??= this.read(now).finally(() => (this.loading = undefined));
    try {
      this.cached = await this.loading;
      return this.cached;
    } catch (err) {
      this.deps.log?.warn({ err }, 'status page: the store could not be read; serving the last snapshot');
      if (this.cached) return { ...this.cached, stale: true };
      throw err;
    }
  }

  private async read(now: number): Promise<StatusSnapshot> {
    const since = Math.floor(now / DAY) * DAY - (STATUS_DAYS - 1) * DAY;
    const [records, maintenance] = await Promise.all([
      this.deps.store.statusUpdates(since, UPDATES_READ),
      this.deps.maintenance ? this.deps.maintenance(now) : Promise.resolve([]),
    ]);
    const incidents = publicIncidents(records);
    const config = this.config;
    return {
      title: config.title,
      at: now,
      components: componentViews(config.components, incidents, maintenance, now, STATUS_DAYS),
      active: incidents.filter((i) => i.resolvedAt === null),
      past: incidents.filter((i) => i.resolvedAt !== null && i.resolvedAt >= since).sort((a, b) => b.resolvedAt! - a.resolvedAt!),
      maintenance: maintenance.filter((m) => m.endsAt > now - 7 * DAY).sort((a, b) => a.startsAt - b.startsAt),
      stale: false,
    };
  }

  /**
   * Asks for a subscription for `client` (the requester's address, as web/status-routes.ts keys it).
   * The answer never says whether the address was known: for a new or waiting address (bounded per
   * address) a confirmation e-mail is queued in the outbox in the same transaction, for a confirmed
   * one nothing, and nothing is sent during the request. Returns the seconds to wait when the client
   * made too many requests (counted for every replica), else undefined. Throws StatusInputError for
   * a bad address or component.
   */
  async subscribe(rawEmail: string, components: string[] | null, client: string): Promise<number | undefined> {
    const email = normalizeEmail(rawEmail);
    if (!email) throw new StatusInputError('That is not an e-mail address.');
    const known = new Set(this.config.components.map((c) => c.id));
    const unknown = components?.find((c) => !known.has(c));
    if (unknown !== undefined) throw new StatusInputError(`There is no component "${unknown}".`);
    const at = this.deps.clock.now();
    // One transaction whatever the address: its time does not tell a new address from a subscribed one.
    const outcome = await this.deps.store.subscribe({
      email,
      components: components && components.length ? [...new Set(components)] : null,
      confirmToken: token(),
      unsubscribeToken: token(),
      at,
      ...CONFIRMATIONS,
      client: { key: clientHash(client), rule: SUBSCRIBE_LIMITS.byClient },
    });
    if (typeof outcome === 'object') return Math.max(1, Math.ceil((outcome.clientLimitedUntil - at) / 1000));
    if (outcome === 'queued') this.deps.wake?.();
    return undefined;
  }

  confirm(token: string): Promise<boolean> {
    return this.deps.store.confirmSubscription(token, this.deps.clock.now());
  }

  unsubscribe(token: string): Promise<boolean> {
    return this.deps.store.unsubscribe(token);
  }

  /**
   * The scheduler's pass (driven by the store, on every replica): deletes the subscriptions left
   * unconfirmed for a week, and the subscribe requests counted before the client window.
   */
  async sweep(): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.store.sweepUnconfirmed(now - UNCONFIRMED_TTL_MS);
    await this.deps.store.sweepSubscribeAttempts(now - SUBSCRIBE_LIMITS.byClient.windowMs);
  }

  /** The status page's own base URL, without a trailing slash. */
  base(): string {
    return (this.deps.publicUrl ?? 'http://localhost').replace(/\/+$/, '');
  }
}
