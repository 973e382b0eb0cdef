import { AlertmanagerRefused, type SilenceMatcher, type SilencesClient, type Silence } from '../alertmanager/silences-client.js';
import { parseMatcher } from '../classify/matcher.js';
import type { Clock } from '../clock.js';
import type { Incident, IncidentWithDetails } from '../incidents/model.js';
import { SYSTEM, type Responder } from '../incidents/timeline.js';
import type { IncidentRecords, SilenceRecord, SilenceStore } from '../store/store.js';
import type { IncidentService } from './incident-service.js';

/** How long a silence made from the incident lasts: an hour, four, a day, or until the incident resolves. */
export type SilenceLength = '1h' | '4h' | '24h' | 'resolved';
export const SILENCE_LENGTHS: readonly SilenceLength[] = ['1h', '4h', '24h', 'resolved'];
const LENGTH_MS: Record<Exclude<SilenceLength, 'resolved'>, number> = { '1h': 3_600_000, '4h': 4 * 3_600_000, '24h': 24 * 3_600_000 };
/** "Until resolved" is a silence this long in Alertmanager, expired by the service when the incident resolves. */
export const UNTIL_RESOLVED_MS = 30 * 24 * 3_600_000;
/** The channel is told this long before a silence made here ends while the incident is open. */
export const NOTICE_BEFORE_MS = 15 * 60_000;

/** What a person asks for. */
export interface SilenceRequest {
  length: SilenceLength;
  /** The whole group (its group labels as matchers) or one alert (its labels). */
  scope: 'group' | 'alert';
  /** The alert, for scope `alert`. */
  fingerprint?: string | undefined;
  /** Keep a timed silence after the incident resolves (otherwise it is expired then). */
  keepAfterResolve?: boolean | undefined;
}

/** A silence that applies to an incident, as Alertmanager lists it, with what this service knows of it. */
export interface IncidentSilence {
  id: string;
  state: Silence['status']['state'];
  matchers: string;
  createdBy: string;
  comment: string;
  startsAt: number;
  endsAt: number;
  /** Set when it was made from this incident. */
  madeHere: SilenceRecord | undefined;
}

/** A request that cannot be made as asked (no group labels, an alert the incident does not have): a 400. */
export class SilenceRequestError extends Error {
  override name = 'SilenceRequestError';
}

export interface SilenceServiceDeps {
  store: SilenceStore & Pick<IncidentRecords, 'getIncident'>;
  incidents: IncidentService;
  client: SilencesClient;
  clock: Clock;
  config: { readonly current: { alertmanager: { urls: string[] } } };
  /** PUBLIC_URL: the silence's comment links the incident. */
  publicUrl?: string | undefined;
}

/**
 * Silences made from an incident, in Alertmanager (API v2), on every peer in turn until one answers.
 * Each one made or expired is a timeline entry. Those made here are remembered in the store: the
 * scheduler's pass expires them when the incident resolves (unless kept on purpose) and tells the
 * incident's channels once, 15 minutes before one ends while the incident is open.
 */
export class SilenceService {
  constructor(private readonly deps: SilenceServiceDeps) {}

  /** The peers to ask: the configured ones, else the Alertmanager that sent the incident (its externalURL). */
  peersFor(incident: Pick<Incident, 'externalUrl'>): string[] {
    const urls = this.deps.config.current.alertmanager.urls;
    if (urls.length) return urls;
    return /^https?:\/\//.test(incident.externalUrl) ? [incident.externalUrl.replace(/\/+$/, '')] : [];
  }

  async silence(
    id: number,
    who: Responder,
    req: SilenceRequest,
  ): Promise<{ found: false } | { found: true; silenceId: string; matchers: string; endsAt: number }> {
    const incident = await this.deps.store.getIncident(id, { offset: 0, limit: 10_000 });
    if (!incident) return { found: false };
    if (incident.status === 'resolved') throw new SilenceRequestError('The incident is resolved: there is nothing left to silence.');
    const labels = req.scope === 'group' ? incident.groupLabels : incident.alerts.find((a) => a.fingerprint === req.fingerprint)?.labels;
    if (!labels) throw new SilenceRequestError(`This incident has no alert ${JSON.stringify(req.fingerprint ?? '')}.`);
    const matchers: SilenceMatcher[] = Object.entries(labels).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true }));
    if (matchers.length === 0)
      throw new SilenceRequestError('This group has no group labels (Alertmanager groups it by nothing): silence one alert instead.');
    const now = this.deps.clock.now();
    const untilResolved = req.length === 'resolved';
    const endsAt = now + (req.length === 'resolved' ? UNTIL_RESOLVED_MS : LENGTH_MS[req.length]);
    const link = this.deps.publicUrl ? ` ${this.deps.publicUrl.replace(/\/+$/, '')}/incidents/${id}` : '';
    const { id: silenceId } = await this.deps.client.create(this.peersFor(incident), {
      matchers,
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(endsAt).toISOString(),
      createdBy: who.name,
      comment: `alert-triage incident #${id}: ${incident.title}${link}${untilResolved ? ' (until the incident resolves)' : ''}`.slice(
        0,
        1000,
      ),
    });
    const keepAfterResolve = !untilResolved && req.keepAfterResolve === true;
    await this.deps.store.addSilence({ silenceId, incidentId: id, createdBy: who.name, endsAt, untilResolved, keepAfterResolve });
    await this.deps.incidents.recordSilence(id, who, {
      kind: 'silenced',
      silenceId,
      scope: req.scope,
      matchers: matcherText(matchers),
      endsAt,
      untilResolved,
      keepAfterResolve,
    });
    return { found: true, silenceId, matchers: matcherText(matchers), endsAt };
  }

  /** The silences in Alertmanager, active or pending, that match one of the incident's alerts (or were made from it). */
  async silencesFor(incident: Pick<IncidentWithDetails, 'id' | 'externalUrl' | 'alerts'>): Promise<IncidentSilence[]> {
    const [listed, made] = await Promise.all([this.deps.client.list(this.peersFor(incident)), this.deps.store.silencesOf(incident.id!)]);
    const mine = new Map(made.map((s) => [s.silenceId, s]));
    return listed
      .filter((s) => s.status.state !== 'expired')
      .filter((s) => mine.has(s.id) || incident.alerts.some((a) => matchesAll(s.matchers, a.labels)))
      .map((s) => ({
        id: s.id,
        state: s.status.state,
        matchers: matcherText(s.matchers),
        createdBy: s.createdBy,
        comment: s.comment,
        startsAt: Date.parse(s.startsAt),
        endsAt: Date.parse(s.endsAt),
        madeHere: mine.get(s.id),
      }))
      .sort((a, b) => a.endsAt - b.endsAt);
  }

  /** "Expire now": expires the silence in Alertmanager and records who did. */
  async expire(id: number, silenceId: string, who: Responder): Promise<{ found: boolean }> {
    const incident = await this.deps.store.getIncident(id, { offset: 0, limit: 1 });
    if (!incident) return { found: false };
    await this.deps.client.expire(this.peersFor(incident), silenceId);
    await this.deps.store.markSilenceExpired(silenceId, this.deps.clock.now());
    await this.deps.incidents.recordSilence(id, who, { kind: 'silence_expired', silenceId, reason: 'by_hand' });
    return { found: true };
  }

  /**
   * The scheduler's pass: expires the silences made here whose incident resolved (unless kept on
   * purpose), and tells the channels once about each one ending within 15 minutes while its incident
   * is open. An Alertmanager that does not answer leaves the silence for the next pass.
   */
  async sweep(): Promise<void> {
    const { store, clock } = this.deps;
    const now = clock.now();
    for (const s of await store.silencesDue(now + NOTICE_BEFORE_MS)) {
      if (s.incidentResolved) {
        const incident = await store.getIncident(s.incidentId, { offset: 0, limit: 1 });
        if (!incident) continue;
        try {
          await this.deps.client.expire(this.peersFor(incident), s.silenceId);
        } catch (err) {
          // Gone from Alertmanager (it ended, or someone deleted it): nothing left to expire.
          if (!(err instanceof AlertmanagerRefused && err.status === 404)) continue;
        }
        if (await store.markSilenceExpired(s.silenceId, now))
          await this.deps.incidents.recordSilence(s.incidentId, SYSTEM, {
            kind: 'silence_expired',
            silenceId: s.silenceId,
            reason: 'incident_resolved',
          });
      } else if (await store.claimSilenceNotice(s.silenceId, now)) {
        // One that already ended while nobody was there to tell is not announced late.
        if (s.endsAt <= now) continue;
        const made = (await store.getIncident(s.incidentId, { offset: 0, limit: 1 }))?.timeline.find(
          (e) => e.kind === 'silenced' && e.silenceId === s.silenceId,
        );
        await this.deps.incidents.recordSilence(s.incidentId, SYSTEM, {
          kind: 'silence_ending',
          silenceId: s.silenceId,
          endsAt: s.endsAt,
          matchers: made?.kind === 'silenced' ? made.matchers : '',
        });
      }
    }
  }
}

/** Matchers as Alertmanager writes them: {alertname="DiskFull", instance="db-1"}. */
export function matcherText(matchers: readonly SilenceMatcher[]): string {
  return `{${matchers.map((m) => `${m.name}${op(m)}${JSON.stringify(m.value)}`).join(', ')}}`;
}

const op = (m: SilenceMatcher) => (m.isRegex ? (m.isEqual === false ? '!~' : '=~') : m.isEqual === false ? '!=' : '=');

/** Whether a silence's matchers all hold for an alert's labels, as Alertmanager decides (RE2, anchored). */
function matchesAll(matchers: readonly SilenceMatcher[], labels: Readonly<Record<string, string>>): boolean {
  try {
    return matchers.every((m) => parseMatcher(`${m.name}${op(m)}${JSON.stringify(m.value)}`).matches(labels));
  } catch {
    return false;
  }
}
