import type { Clock } from '../clock.js';
import type { Classification, Classifier } from '../classify/classifier.js';
import type { Labels } from '../classify/matcher.js';
import { SEVERITIES, severityRank } from '../classify/severity.js';
import type { GroupNotification, Incident } from '../incidents/model.js';
import {
  acknowledge,
  addNote,
  applyNotification,
  markStep,
  noteSilence,
  resolve,
  saveReview,
  sweepBreach,
  type SlaPolicy,
  type TeamRouter,
} from '../incidents/incident-machine.js';
import { teamFor, type PagingConfig } from '../paging/paging-config.js';
import { escalate, phoneOutcome, withPages, type PagingFacts, type Unconfigured } from '../paging/paging-policy.js';
import type { Contact } from '../paging/paging-config.js';
import type { CommittedChange, IncidentDecider, IncidentStore, NotificationOutcome, Urgency } from '../store/store.js';
import { SYSTEM, type ChecklistState, type EntryOf, type Responder } from '../incidents/timeline.js';
import { latestReview, type Review } from '../incidents/checklist.js';
import { postStatusUpdate, type PublicUpdate, type UpdateRecipient } from '../incidents/status-page.js';

/** The parts of the config a decision reads. */
export interface DecisionSettings {
  classify: Classifier;
  sla: SlaPolicy;
  paging: PagingConfig;
}

/** What the incident service needs; the store is the only adapter and it comes in as an interface. */
export interface IncidentServiceDeps {
  store: IncidentStore;
  clock: Clock;
  /** The config in force (a LiveConfig), read at every decision, so a reload applies to the next one. */
  config: { readonly current: DecisionSettings };
  /** Channels that cannot send and why; their pages are recorded as not sent. */
  unconfigured?: Unconfigured;
  /** Channels told of a saved review too (the channel definitions' `takesReviews`). */
  takesReviews?: PagingFacts['takesReviews'];
  /** Called once for every committed change, after the commit (metrics). */
  onCommitted?: (change: CommittedChange) => void;
}

const SWEEP_CHUNK = 500;
// A bound on one pass (500,000 incidents); the next pass takes the rest.
const MAX_CHUNKS = 1000;

/** The outcome of a person's action on one incident. */
export type ActionResult = { found: false } | { found: true; incident: Incident; changed: boolean };

/**
 * Runs the incident state machine against the store: each call is one store transaction, and
 * every committed change is reported to `onCommitted` exactly once.
 */
export class IncidentService {
  constructor(private readonly deps: IncidentServiceDeps) {}

  /** Applies one Alertmanager notification; says what changed and which incident it concerns. */
  async ingest(n: GroupNotification): Promise<NotificationOutcome> {
    const { store, clock } = this.deps;
    const { classify, sla, paging } = this.deps.config.current;
    const facts = await this.facts();
    const teamOf: TeamRouter = (labelSets) => teamFor(paging.teams, labelSets)?.id ?? null;
    // Classified once, whether the store asks for the urgency in a storm or not.
    const { urgency, classifyOnce } = classifiedOnce(classify, n);
    const outcome = await store.applyNotification(
      n,
      (active, previous, notification) => {
        const now = clock.now();
        return withPages(
          applyNotification(active, previous, notification, { now, classify: classifyOnce, sla, teamOf }),
          paging,
          now,
          facts,
        );
      },
      urgency,
    );
    if (outcome.change) this.committed(outcome.change);
    return outcome;
  }

  acknowledge(id: number, who: Responder, note?: string): Promise<ActionResult> {
    const responder = this.identify(who);
    return this.act(id, (incident, now) => acknowledge(incident, responder, note, now));
  }

  resolve(id: number, who: Responder, note?: string): Promise<ActionResult> {
    const responder = this.identify(who);
    return this.act(id, (incident, now) => resolve(incident, responder, note, now));
  }

  /** Adds a person's note to the timeline. */
  note(id: number, who: Responder, text: string): Promise<ActionResult> {
    const responder = this.identify(who);
    return this.act(id, (incident, now) => addNote(incident, responder, text, now));
  }

  /** Records a silence made, expired or ending soon on the incident's timeline (and, for one ending, tells its channels). */
  recordSilence(id: number, who: Responder | typeof SYSTEM, entry: Parameters<typeof noteSilence>[2]): Promise<ActionResult> {
    const actor = who === SYSTEM ? SYSTEM : this.identify(who);
    return this.act(id, (incident, now) => noteSilence(incident, actor, entry, now));
  }

  /** Ticks, unticks or marks a problem on a checklist step. */
  markStep(id: number, who: Responder, step: string, state: ChecklistState, note?: string): Promise<ActionResult> {
    const responder = this.identify(who);
    return this.act(id, (incident, now) => markStep(incident, responder, step, state, note, now));
  }

  /** Saves the post-incident fields; saving what already stands records nothing. */
  async saveReview(id: number, who: Responder, review: Review): Promise<ActionResult> {
    const responder = this.identify(who);
    // The latest review alone, not the timeline it is in.
    const current = await this.deps.store.timelinePage(id, { limit: 1, kinds: ['review'] });
    const previous = latestReview(current.entries);
    return this.act(id, (incident, now) => saveReview(incident, responder, review, previous, now));
  }

  /**
   * Posts a public update (docs/status-page.md): its timeline entry, the tick of `updatedStep`
   * (null when the incident's checklist has no such step) and, with `notify`, the e-mails to the
   * subscribers who want it, in one transaction.
   */
  postStatusUpdate(
    id: number,
    who: Responder,
    update: PublicUpdate,
    opts: { recipients: readonly UpdateRecipient[]; updatedStep: string | null; notify: boolean },
  ): Promise<ActionResult> {
    const responder = this.identify(who);
    return this.act(id, (incident, now) => postStatusUpdate(incident, responder, update, opts, now));
  }

  /**
   * Records what came of a call or text (a status callback, a key, a reply); `escalateNow` makes
   * the incident's next escalation step due at once (an unanswered last call, or 5 pressed), and
   * takes it now rather than at the scheduler's next pass.
   */
  async phoneOutcome(id: number, entry: EntryOf<'phone'>, escalateNow = false): Promise<ActionResult> {
    const result = await this.act(id, (incident, now) => phoneOutcome(incident, entry, escalateNow, now));
    if (
      escalateNow &&
      result.found &&
      result.incident.nextEscalationAt !== null &&
      result.incident.nextEscalationAt <= this.deps.clock.now()
    )
      await this.sweepEscalations();
    return result;
  }

  /** The contact a phone number belongs to: a number in the config, or one the person added and verified. */
  async contactByNumber(number: string, method: string): Promise<Contact | undefined> {
    const { contacts } = this.deps.config.current.paging;
    const configured = contacts.find((c) => (c.addresses?.[method] ?? c.phone) === number || c.phone === number);
    if (configured) return configured;
    for (const [id, settings] of await this.deps.store.allContactSettings()) {
      if (settings.methods.some((m) => m.address === number && m.verifiedAt !== undefined)) return contacts.find((c) => c.id === id);
    }
    return undefined;
  }

  /** Marks every incident whose deadline passed without an acknowledgement; `each` sees every committed change; returns how many. */
  async sweepBreaches(each?: (change: CommittedChange) => void): Promise<number> {
    const { paging } = this.deps.config.current;
    return this.sweep(
      (store, now, facts, limit) => store.sweepOverdue(now, (incident) => withPages(sweepBreach(incident, now), paging, now, facts), limit),
      each,
    );
  }

  /** Takes every escalation step and reminder that is due; `each` sees every committed change; returns how many. */
  async sweepEscalations(each?: (change: CommittedChange) => void): Promise<number> {
    const { paging } = this.deps.config.current;
    return this.sweep(
      (store, now, facts, limit) => store.sweepEscalations(now, (incident) => escalate(incident, paging, now, facts), limit),
      each,
    );
  }

  /**
   * Runs a sweep in chunks of SWEEP_CHUNK incidents, one transaction each, so an alert storm that
   * breaches 100,000 deadlines at once is never held in memory, nor in one transaction, at once.
   * Every swept incident changes (it is breached, or its escalation moves on), so chunks end.
   */
  private async sweep(
    chunk: (store: IncidentStore, now: number, facts: PagingFacts, limit: number) => Promise<CommittedChange[]>,
    each: ((change: CommittedChange) => void) | undefined,
  ): Promise<number> {
    const facts = await this.facts();
    const now = this.deps.clock.now();
    let total = 0;
    for (let i = 0; i < MAX_CHUNKS; i++) {
      const changes = await chunk(this.deps.store, now, facts, SWEEP_CHUNK);
      for (const c of changes) {
        this.committed(c);
        each?.(c);
      }
      total += changes.length;
      if (changes.length < SWEEP_CHUNK) break;
    }
    return total;
  }

  private async act(id: number, decide: (incident: Incident, now: number) => ReturnType<IncidentDecider>): Promise<ActionResult> {
    const { store, clock } = this.deps;
    const { paging } = this.deps.config.current;
    const facts = await this.facts();
    const result = await store.updateIncident(id, (incident) => {
      const now = clock.now();
      return withPages(decide(incident, now), paging, now, facts);
    });
    if (!result) return { found: false };
    if (result.change) this.committed(result.change);
    return { found: true, incident: result.incident, changed: result.change !== null };
  }

  /** What paging reads besides the config: the channels that cannot send, and the run-time overrides in force. */
  private async facts(): Promise<PagingFacts> {
    // Only the overrides in force now: an indexed read, whatever the number planned ahead.
    const [overrides, people] = await Promise.all([
      this.deps.store.overridesAt(this.deps.clock.now()),
      this.deps.store.allContactSettings(),
    ]);
    return {
      unconfigured: this.deps.unconfigured,
      overrides,
      people,
      ...(this.deps.takesReviews ? { takesReviews: this.deps.takesReviews } : {}),
    };
  }

  /** A name given through the API is recorded as the contact it names (by id or by name), when it names one. */
  private identify(who: Responder): Responder {
    if (who.contact) return who;
    const contact = this.deps.config.current.paging.contacts.find((c) => c.id === who.name || c.name === who.name);
    return contact ? { ...who, contact: contact.id } : who;
  }

  private committed(change: CommittedChange): void {
    this.deps.onCommitted?.(change);
  }
}

/**
 * The notification's urgency (its most severe alert's rank), which the store asks for only when
 * notifications queue for it, and a classifier that reuses what the urgency found: outside a storm
 * nothing is remembered (no cost on the common path), in one nothing is classified twice.
 */
function classifiedOnce(classify: Classifier, n: GroupNotification): { urgency: Urgency; classifyOnce: Classifier } {
  let seen: Map<Labels, Classification> | undefined;
  return {
    urgency: () => {
      seen = new Map();
      let most: number = SEVERITIES.length;
      for (const a of n.alerts) {
        const c = classify(a.labels);
        seen.set(a.labels, c);
        most = Math.min(most, severityRank(c.severity));
      }
      return most;
    },
    classifyOnce: (labels) => seen?.get(labels) ?? classify(labels),
  };
}
