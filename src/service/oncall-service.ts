import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import {
  MAX_OPEN_OVERRIDES,
  oncallNow,
  overrideProblem,
  overridesOf,
  shiftsBetween,
  type NewOverride,
  type OncallRequest,
  type Rotation,
  type RuntimeOverride,
  type Shift,
} from '../paging/oncall.js';
import type { PagingConfig } from '../paging/paging-config.js';
import type { IncidentStore } from '../store/store.js';
import type { OncallNotices } from './oncall-notices.js';

/** A rotation people can see and plan: the top level's (id '') or a team's own. */
export interface RotationView {
  /** The team id, or '' for the top level's rotation. */
  id: string;
  /** Whose run-time overrides apply: the team id, or null for the top level's. */
  owner: string | null;
  name: string;
  rotation: Rotation;
}

/** Who asks for a change to who is on call. */
export interface Actor {
  /** The name recorded in the log. */
  name: string;
  /** The contact the actor is, when known. */
  contact?: string | undefined;
  /** May change anyone's shifts directly (the API token's holder; with People, the admin role). */
  admin: boolean;
}

/** The outcome of a change: done, or refused with a reason in words (and the HTTP status that says it). */
export type Outcome<T> = { ok: true; value: T } | { ok: false; status: 400 | 403 | 404 | 409; message: string };
const refuse = (status: 400 | 403 | 404 | 409, message: string): Outcome<never> => ({ ok: false, status, message });

/**
 * Who may change whose shift, in one place: anyone for themselves, an admin for anyone. People
 * (issue 20) brings roles; then this asks for the responder role at least.
 */
export function mayActFor(actor: Actor, contact: string): boolean {
  return actor.admin || actor.contact === contact;
}

/** What the on-call service needs. */
export interface OncallServiceDeps {
  store: IncidentStore;
  clock: Clock;
  config: { readonly current: { paging: PagingConfig } };
  /** Words and addresses of the notices a request and its answer queue; none without it. */
  notices?: OncallNotices | undefined;
  /** Notices were committed: the dispatcher claims them now rather than at its next poll. */
  wake?: (() => void) | undefined;
}

/**
 * On-call you can see and plan: the schedule of each rotation with the run-time overrides applied,
 * and every change to it (take a shift, cover for someone, a swap, end an override early), each
 * checked here and written with its log entry by the store.
 */
export class OncallService {
  constructor(private readonly deps: OncallServiceDeps) {}

  private get paging(): PagingConfig {
    return this.deps.config.current.paging;
  }

  /** The rotations: the top level's (when there is one), then each team's own. */
  rotations(): RotationView[] {
    const p = this.paging;
    const out: RotationView[] = p.rotation ? [{ id: '', owner: null, name: 'Top level', rotation: p.rotation }] : [];
    for (const t of p.teams)
      if (t.rotation && t.rotationOwner === t.id) out.push({ id: t.id, owner: t.id, name: t.name, rotation: t.rotation });
    return out;
  }

  /** The rotation of `id` ('' for the top level's); a team without its own shares the top level's. */
  rotation(id: string): RotationView | undefined {
    const all = this.rotations();
    const own = all.find((r) => r.id === id);
    if (own) return own;
    const team = this.paging.teams.find((t) => t.id === id);
    return team ? all.find((r) => r.id === '') : undefined;
  }

  /** The run-time overrides of `r` that overlap [from, to), without those whose contact the config no longer has. */
  private async overridesOf(r: RotationView, from: number, to: number): Promise<RuntimeOverride[]> {
    // A rotation's longest shift before `from` can be shortened by an override that ended after its start.
    const before = r.rotation.lengthDays * 86_400_000 + 86_400_000;
    return overridesOf(await this.deps.store.overridesBetween(from - before, to), r.owner, this.paging.contacts);
  }

  /** Who is on call now and next. */
  async now(r: RotationView): Promise<{ current: Shift; next: Shift }> {
    const now = this.deps.clock.now();
    return oncallNow(r.rotation, now, await this.overridesOf(r, now, now + 2 * r.rotation.lengthDays * 86_400_000 + 86_400_000));
  }

  /** The shifts from `from` to `to`, overrides applied. */
  async schedule(r: RotationView, from: number, to: number): Promise<Shift[]> {
    return shiftsBetween(r.rotation, from, to, await this.overridesOf(r, from, to));
  }

  /** A contact's name, or the id when the config does not know it. */
  nameOf(contact: string): string {
    return this.paging.contacts.find((c) => c.id === contact)?.name ?? contact;
  }

  /** Puts `contact` on call in `r` from `from` to `to` (covering `covers`' shift, when taken from one), as `actor`. */
  async addOverride(
    actor: Actor,
    r: RotationView,
    o: { contact: string; from: number; to: number; covers?: string | null },
  ): Promise<Outcome<RuntimeOverride>> {
    const now = this.deps.clock.now();
    if (!this.paging.contacts.some((c) => c.id === o.contact)) return refuse(400, `contact: no contact "${o.contact}" in the config`);
    if (!mayActFor(actor, o.contact))
      return refuse(
        403,
        `only ${this.nameOf(o.contact)} or an admin may put ${this.nameOf(o.contact)} on call; ask them to accept instead`,
      );
    const problem = overrideProblem(o.from, o.to, now);
    if (problem) return refuse(400, problem);
    const override: NewOverride = {
      team: r.owner,
      contact: o.contact,
      from: o.from,
      to: o.to,
      by: actor.name,
      createdAt: now,
      covers: o.covers ?? null,
    };
    const stored = await this.deps.store.addOverride(override, MAX_OPEN_OVERRIDES, now);
    if (!stored) return refuse(409, `the rotation has ${MAX_OPEN_OVERRIDES} overrides not yet ended: end or remove some first`);
    return { ok: true, value: stored };
  }

  /** Ends an override now (one not yet started is cancelled): its contact, or an admin. */
  async endOverride(actor: Actor, id: number): Promise<Outcome<RuntimeOverride>> {
    const o = await this.deps.store.getOverride(id);
    if (!o) return refuse(404, `no override ${id}`);
    if (!mayActFor(actor, o.contact) && o.covers !== actor.contact)
      return refuse(403, `only ${this.nameOf(o.contact)} or an admin may end it`);
    const ended = await this.deps.store.endOverride(id, this.deps.clock.now(), actor.name);
    return ended ? { ok: true, value: ended } : refuse(409, `override ${id} has ended already`);
  }

  /**
   * Asks `asked` to accept: `contact` covers `asked`'s shift (a cover), or the two swap shifts (a swap:
   * contact takes [swapFrom, swapTo) of asked's, asked takes [from, to) of contact's).
   */
  async request(
    actor: Actor,
    r: RotationView,
    q: Pick<OncallRequest, 'kind' | 'contact' | 'asked' | 'from' | 'to' | 'swapFrom' | 'swapTo'>,
  ): Promise<Outcome<OncallRequest>> {
    const now = this.deps.clock.now();
    for (const id of [q.contact, q.asked])
      if (!this.paging.contacts.some((c) => c.id === id)) return refuse(400, `no contact "${id}" in the config`);
    if (q.contact === q.asked) return refuse(400, 'a request needs two different people');
    // A cover may be asked by anyone: the person covered decides. A swap only by one of the two, or an admin.
    if (q.kind === 'swap' && !actor.admin && actor.contact !== q.contact && actor.contact !== q.asked)
      return refuse(403, 'only one of the two people, or an admin, may ask for a swap');
    for (const [from, to] of [[q.from, q.to], ...(q.kind === 'swap' ? [[q.swapFrom ?? 0, q.swapTo ?? 0]] : [])] as [number, number][]) {
      const problem = overrideProblem(from, to, now);
      if (problem) return refuse(400, problem);
    }
    // Each shift named must be its person's then: a cover, asked's; a swap, contact's and asked's.
    const holder = async (at: number) => (await this.schedule(r, at, at + 1))[0]?.contact;
    const coverer = q.kind === 'cover' ? q.asked : q.contact;
    if ((await holder(q.from)) !== coverer) return refuse(400, `${this.nameOf(coverer)} is not on call then`);
    if (q.kind === 'swap' && (await holder(q.swapFrom ?? 0)) !== q.asked) return refuse(400, `${this.nameOf(q.asked)} is not on call then`);
    const request = { team: r.owner, ...q, requestedBy: actor.name, createdAt: now };
    // The person asked is told (Slack or e-mail), queued with the request itself.
    const notices =
      (await this.deps.notices?.requestMade(
        { ...request, id: 0, status: 'pending', decidedAt: null, decidedBy: null },
        { id: r.id, name: r.name, zone: r.rotation.timeZone },
      )) ?? [];
    const made = await this.deps.store.addOncallRequest(request, notices);
    if (notices.length) this.deps.wake?.();
    return { ok: true, value: made };
  }

  /** Accepts or declines a pending request (the person asked, or an admin), or cancels it (whoever made it). */
  async answer(actor: Actor, id: number, status: 'accepted' | 'declined' | 'cancelled'): Promise<Outcome<OncallRequest>> {
    const q = await this.deps.store.getOncallRequest(id);
    if (!q) return refuse(404, `no request ${id}`);
    if (q.status !== 'pending') return refuse(409, `request ${id} was ${q.status} already`);
    const allowed =
      status === 'cancelled' ? actor.admin || actor.contact === q.contact || actor.name === q.requestedBy : mayActFor(actor, q.asked);
    if (!allowed)
      return refuse(403, status === 'cancelled' ? 'only whoever asked may cancel it' : `only ${this.nameOf(q.asked)} may answer it`);
    const now = this.deps.clock.now();
    const base = { team: q.team, by: actor.name, createdAt: now };
    const overrides: NewOverride[] =
      q.kind === 'cover'
        ? [{ ...base, contact: q.contact, from: q.from, to: q.to, covers: q.asked }]
        : [
            { ...base, contact: q.asked, from: q.from, to: q.to, covers: q.contact },
            { ...base, contact: q.contact, from: q.swapFrom!, to: q.swapTo!, covers: q.asked },
          ];
    const r = this.rotation(q.team ?? '');
    const notices =
      r && this.deps.notices
        ? await this.deps.notices.requestAnswered({ ...q, status, decidedAt: now, decidedBy: actor.name }, actor, {
            id: r.id,
            name: r.name,
            zone: r.rotation.timeZone,
          })
        : [];
    const decided = await this.deps.store.decideOncallRequest(id, {
      status,
      by: actor.name,
      at: now,
      overrides,
      maxOpen: MAX_OPEN_OVERRIDES,
      notices,
    });
    if (decided && notices.length) this.deps.wake?.();
    return decided ? { ok: true, value: decided.request } : refuse(409, `request ${id} was answered already`);
  }

  /** Marks void the overrides whose contact the config no longer has (after a reload); returns them. */
  voidRemovedContacts(): Promise<RuntimeOverride[]> {
    return this.deps.store.voidOverrides(
      this.paging.contacts.map((c) => c.id),
      this.deps.clock.now(),
      'the contact was removed from the config',
    );
  }
}

/** A calendar feed's secret token (shown once) and the SHA-256 that is stored instead. */
export function newFeedToken(): { token: string; hash: string } {
  const token = randomBytes(24).toString('base64url');
  return { token, hash: hashFeedToken(token) };
}

export function hashFeedToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
