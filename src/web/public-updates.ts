import type { FastifyRequest } from 'fastify';
import { closingProposal, proposeComponents, publicIdOf, type PublicIncident, type PublicUpdate } from '../incidents/status-page.js';
import type { IncidentHead } from '../store/store.js';
import type { EntryOf } from '../incidents/timeline.js';
import type { StatusService } from '../service/status-service.js';
import { maySilence } from './permissions.js';
import type { PublicUpdateView } from './views/public-update-form.js';

/** The public updates an incident page lists, newest first. */
export const PUBLIC_UPDATES_SHOWN = 20;

/**
 * The "Status page" section of an incident: what was posted, and the draft the form proposes. Before
 * any update: investigating, no title (the incident's is internal), and the statuses of the
 * components the alerts match. Once resolved with the public incident still open: the closing
 * update. Otherwise: the last update's state, title and components, to be changed.
 */
export function publicUpdateView(
  status: StatusService,
  req: FastifyRequest,
  incident: IncidentHead,
  posted: EntryOf<'status_update'>[],
  draft?: PublicUpdate,
): PublicUpdateView {
  const components = status.config.components;
  const last = posted[0] ?? null;
  let proposal: string | undefined;
  let d = draft;
  if (!d) {
    const closing = incident.status === 'resolved' ? closingProposal(last) : null;
    if (closing) {
      d = closing;
      proposal = 'The incident is resolved: post the closing update so users know (every component back to operational).';
    } else if (last) {
      d = { state: last.state, title: last.title, message: '', components: last.components };
    } else {
      const proposed = proposeComponents(
        components,
        incident,
        incident.alerts.map((a) => a.labels),
      );
      d = { state: 'investigating', title: '', message: '', components: proposed };
      if (proposed.length)
        proposal = 'Components proposed from the alerts that match them, by the incident’s severity: confirm or change each.';
    }
  }
  return {
    components,
    posted,
    draft: d,
    proposal,
    canNotify: status.subscriptionsOpen,
    mayPost: maySilence(req),
  };
}

/** The public incident as it will read once `draft` is posted: the updates so far and the draft on top. */
export function previewIncident(incidentId: number, posted: EntryOf<'status_update'>[], draft: PublicUpdate, now: number): PublicIncident {
  const oldest = posted.at(-1);
  const updates = [
    { ...draft, at: now },
    ...posted.map((u) => ({ at: u.at, state: u.state, title: u.title, message: u.message, components: u.components })),
  ];
  return {
    publicId: publicIdOf(incidentId, oldest?.at ?? now),
    title: draft.title,
    state: draft.state,
    startedAt: oldest?.at ?? now,
    resolvedAt: draft.state === 'resolved' ? now : null,
    components: draft.state === 'resolved' ? [] : draft.components,
    updates,
  };
}
