import { AlertmanagerRefused, type SilencesClient } from '../alertmanager/silences-client.js';
import { MatcherSyntaxError, parseMatcher, type Labels } from '../classify/matcher.js';
import type { Clock } from '../clock.js';
import type { IncidentRecords, MaintenanceStore, MaintenanceWindow, WindowMatcher } from '../store/store.js';
import { matcherText } from './silence-service.js';

/** The longest window: a silence for longer is a forgotten one. */
export const MAX_WINDOW_MS = 31 * 86_400_000;
/** How many windows the page lists (current and upcoming). */
export const LIST_LIMIT = 200;
/** How many of the matched alerts a preview names (it counts them all). */
export const PREVIEW_ALERTS = 50;
/** How many unresolved incidents a preview reads, the newest first. */
const PREVIEW_INCIDENTS = 200;
const PREVIEW_ALERTS_PER_INCIDENT = 500;

/** What a person asks for: times as instants, matchers as typed (one a line; a blank line starts another silence). */
export interface MaintenanceRequest {
  title: string;
  description: string;
  startsAt: number;
  endsAt: number;
  matchers: string;
  public: boolean;
  publicText: string;
}

/** A window as the page lists it: upcoming or active, and what Alertmanager says of its silences. */
export interface WindowView extends MaintenanceWindow {
  state: 'upcoming' | 'active';
  /** Silences of the window that Alertmanager lists as expired while the window should run (someone expired them there). */
  expiredInAlertmanager: string[];
}

/** A window as the public status page may show it: its title, its public words and its times, nothing internal. */
export interface PublicMaintenance {
  id: number;
  title: string;
  text: string;
  startsAt: number;
  endsAt: number;
  state: 'upcoming' | 'active';
}

/** What the matchers would match now: Alertmanager's alerts (firing, silenced or not) and our unresolved incidents. */
export interface MaintenancePreview {
  groups: WindowMatcher[][];
  /** The first PREVIEW_ALERTS alerts Alertmanager holds that a group matches, and how many in all; undefined when it did not answer. */
  alerts?: { total: number; shown: { fingerprint: string; labels: Labels; state: string }[] } | undefined;
  /** Why Alertmanager's alerts are missing from the preview. */
  alertmanagerError?: string | undefined;
  /** Unresolved incidents with at least one alert a group matches. */
  incidents: { id: number; title: string; severity: string; status: string; matched: number }[];
}

/** A request that cannot be made as asked (bad matchers, times, a title missing): a 400 with these words. */
export class MaintenanceRequestError extends Error {
  override name = 'MaintenanceRequestError';
}

export interface MaintenanceServiceDeps {
  store: MaintenanceStore & Pick<IncidentRecords, 'listIncidents' | 'incidentHead'>;
  client: SilencesClient;
  clock: Clock;
  config: { readonly current: { alertmanager: { urls: string[] } } };
  /** PUBLIC_URL: the silences' comment links the maintenance page. */
  publicUrl?: string | undefined;
}

/** Who acts. */
export interface MaintenanceActor {
  name: string;
}

/**
 * Maintenance windows: Alertmanager silences for a time to come (one per group of matchers), made
 * from a form, and remembered here with what they are for and whether the status page shows them.
 * Alertmanager does the muting; nothing here mutes anything a second time.
 */
export class MaintenanceService {
  constructor(private readonly deps: MaintenanceServiceDeps) {}

  private peers(): string[] {
    return this.deps.config.current.alertmanager.urls;
  }

  /** The windows not cancelled that have not ended, the soonest first, with what Alertmanager says of their silences. */
  async list(): Promise<{ windows: WindowView[]; alertmanagerError?: string }> {
    const now = this.deps.clock.now();
    const windows = await this.deps.store.maintenanceWindows({ endingAfter: now, limit: LIST_LIMIT });
    let expired = new Set<string>();
    let alertmanagerError: string | undefined;
    if (windows.length > 0) {
      try {
        expired = new Set((await this.deps.client.list(this.peers())).filter((s) => s.status.state === 'expired').map((s) => s.id));
      } catch (err) {
        alertmanagerError = (err as Error).message;
      }
    }
    return {
      windows: windows.map((w) => ({
        ...w,
        state: w.startsAt <= now ? 'active' : 'upcoming',
        expiredInAlertmanager: w.silenceIds.filter((id) => expired.has(id)),
      })),
      ...(alertmanagerError ? { alertmanagerError } : {}),
    };
  }

  /**
   * For the status page: the public windows that have not ended at `now` and are not cancelled, the
   * soonest first, with their title, public words and times only (never matchers, description or who).
   * Reads the store alone, so the status page does not depend on Alertmanager.
   */
  async publicMaintenance(now: number): Promise<PublicMaintenance[]> {
    const windows = await this.deps.store.maintenanceWindows({ endingAfter: now, limit: LIST_LIMIT, publicOnly: true });
    return windows.map((w) => ({
      id: w.id,
      title: w.title,
      text: w.publicText,
      startsAt: w.startsAt,
      endsAt: w.endsAt,
      state: w.startsAt <= now ? 'active' : 'upcoming',
    }));
  }

  /** What the typed matchers would match now. Refuses matchers that do not parse; Alertmanager not answering leaves its part out. */
  async preview(matchers: string): Promise<MaintenancePreview> {
    const groups = parseWindowMatchers(matchers);
    const matches = (labels: Labels) => groups.some((g) => windowGroupMatches(g, labels));
    const preview: MaintenancePreview = { groups, incidents: [] };
    try {
      const alerts = (await this.deps.client.alerts(this.peers())).filter((a) => matches(a.labels));
      preview.alerts = {
        total: alerts.length,
        shown: alerts.slice(0, PREVIEW_ALERTS).map((a) => ({ fingerprint: a.fingerprint, labels: a.labels, state: a.status.state })),
      };
    } catch (err) {
      preview.alertmanagerError = (err as Error).message;
    }
    const open = (await this.deps.store.listIncidents({ limit: PREVIEW_INCIDENTS })).filter((i) => i.status !== 'resolved');
    for (const i of open) {
      const head = await this.deps.store.incidentHead(i.id!, { offset: 0, limit: PREVIEW_ALERTS_PER_INCIDENT });
      const matched = head?.alerts.filter((a) => a.status === 'firing' && matches(a.labels)).length ?? 0;
      if (matched > 0) preview.incidents.push({ id: i.id!, title: i.title, severity: i.severity, status: i.status, matched });
    }
    return preview;
  }

  /**
   * Makes the window: one silence in Alertmanager per group of matchers, then the record. If one
   * silence is refused, those already made are expired again; if the record cannot be written,
   * the silences are expired too, so that no window mutes alerts without being listed.
   */
  async create(who: MaintenanceActor, req: MaintenanceRequest): Promise<MaintenanceWindow> {
    const now = this.deps.clock.now();
    const title = req.title.trim();
    if (!title) throw new MaintenanceRequestError('Give the window a title.');
    if (!Number.isFinite(req.startsAt) || !Number.isFinite(req.endsAt)) throw new MaintenanceRequestError('Give a start and an end.');
    if (req.endsAt <= req.startsAt) throw new MaintenanceRequestError('The end must come after the start.');
    if (req.endsAt <= now) throw new MaintenanceRequestError('The window has already ended: give an end in the future.');
    if (req.endsAt - req.startsAt > MAX_WINDOW_MS) throw new MaintenanceRequestError('A window lasts at most 31 days.');
    if (req.public && !req.publicText.trim())
      throw new MaintenanceRequestError('A public window needs the words the status page shows (what users will notice).');
    const groups = parseWindowMatchers(req.matchers);
    // A start already past is now: Alertmanager would start it now anyway.
    const startsAt = Math.max(req.startsAt, now);
    const link = this.deps.publicUrl ? ` ${this.deps.publicUrl.replace(/\/+$/, '')}/maintenance` : '';
    const peers = this.peers();
    const made: string[] = [];
    try {
      for (const matchers of groups) {
        const { id } = await this.deps.client.create(peers, {
          matchers,
          startsAt: new Date(startsAt).toISOString(),
          endsAt: new Date(req.endsAt).toISOString(),
          createdBy: who.name,
          comment: `Maintenance: ${title}${link}`.slice(0, 1000),
        });
        made.push(id);
      }
      return await this.deps.store.addMaintenanceWindow({
        title,
        description: req.description.trim(),
        startsAt,
        endsAt: req.endsAt,
        matchers: groups,
        silenceIds: made,
        createdBy: who.name,
        createdAt: now,
        public: req.public,
        publicText: req.public ? req.publicText.trim() : '',
      });
    } catch (err) {
      for (const id of made) await this.deps.client.expire(peers, id).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Cancels a window (upcoming) or ends it now (active): its silences are expired in Alertmanager,
   * then the record is marked. A silence Alertmanager no longer has counts as expired.
   */
  async cancel(id: number, who: MaintenanceActor): Promise<MaintenanceWindow | undefined> {
    const w = await this.deps.store.getMaintenanceWindow(id);
    if (!w) return undefined;
    if (w.cancelledAt !== null) return w;
    const now = this.deps.clock.now();
    if (w.endsAt <= now) throw new MaintenanceRequestError('This window has already ended.');
    for (const silenceId of w.silenceIds) {
      try {
        await this.deps.client.expire(this.peers(), silenceId);
      } catch (err) {
        if (!(err instanceof AlertmanagerRefused && err.status === 404)) throw err;
      }
    }
    return (await this.deps.store.cancelMaintenanceWindow(id, who.name, now)) ?? (await this.deps.store.getMaintenanceWindow(id));
  }
}

/**
 * The form's matchers: one a line, as Alertmanager writes them (service="db", instance=~"db-.*");
 * a blank line starts another group, which becomes a silence of its own. Like Alertmanager, each
 * group needs a matcher that does not match an empty label, or it would silence everything.
 */
export function parseWindowMatchers(text: string): WindowMatcher[][] {
  const groups: WindowMatcher[][] = [];
  let current: WindowMatcher[] = [];
  const lines = text.split(/\r?\n/);
  if (lines.length > 200) throw new MaintenanceRequestError('At most 200 lines of matchers.');
  for (const [n, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) {
      if (current.length) groups.push(current);
      current = [];
      continue;
    }
    try {
      const m = parseMatcher(line);
      current.push({ name: m.name, value: m.value, isRegex: m.op === '=~' || m.op === '!~', isEqual: m.op === '=' || m.op === '=~' });
    } catch (err) {
      if (err instanceof MatcherSyntaxError) throw new MaintenanceRequestError(`Line ${n + 1}: ${err.message}.`);
      throw err;
    }
  }
  if (current.length) groups.push(current);
  if (groups.length === 0) throw new MaintenanceRequestError('Give at least one matcher, such as service="db".');
  if (groups.length > 10) throw new MaintenanceRequestError('At most 10 groups of matchers (each is a silence).');
  for (const g of groups)
    if (g.every((m) => windowGroupMatches([m], {})))
      throw new MaintenanceRequestError(
        `${matcherText(g)} matches every alert (each matcher matches an empty label): add one that names something, such as service="db".`,
      );
  return groups;
}

/** One matcher as Alertmanager writes it, its value quoted so that parseMatcher reads it back as it was. */
export function windowMatcherText(m: WindowMatcher): string {
  const op = m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!=';
  return `${m.name}${op}"${m.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Whether every matcher of a group holds for the labels, as Alertmanager decides (RE2, anchored). */
export function windowGroupMatches(group: readonly WindowMatcher[], labels: Labels): boolean {
  return group.every((m) => {
    try {
      return parseMatcher(windowMatcherText(m)).matches(labels);
    } catch {
      return false;
    }
  });
}

/** The groups as the form shows them again: one matcher a line, a blank line between groups. */
export function windowMatchersText(groups: readonly WindowMatcher[][]): string {
  return groups.map((g) => g.map(windowMatcherText).join('\n')).join('\n\n');
}
