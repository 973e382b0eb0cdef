import { Feed } from 'feed';
import { STATE_LABEL, STATUS_LABEL, worse, type ComponentStatus, type PublicIncident } from '../incidents/status-page.js';
import type { StatusSnapshot } from '../service/status-service.js';
import { showBidiControls } from '../well-formed.js';
import { escapeHtml as htmlEscape } from './html.js';

// The status page for the tools that read it: Atom and RSS (the `feed` library) and a JSON summary
// in the spirit of Atlassian Statuspage's /api/v2/summary.json. Only what /status shows.

/** Updates in a feed, newest first. */
const FEED_ITEMS = 50;

/**
 * Text for the library's title, summary and description, which it writes as type="html" (Atom) or
 * an RSS description, both of which readers render as HTML: so HTML-escaped (a "<script>" written in
 * an update stays text in every reader), with no control character XML 1.0 forbids, no "]]>" that
 * would end its CDATA section (escaping turns the ">" into "&gt;"; xml-js itself escapes only the
 * first), and bidirectional controls shown, not obeyed, as on the pages.
 */
export function feedText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return htmlEscape(showBidiControls(text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')));
}

function updates(s: StatusSnapshot): { incident: PublicIncident; update: PublicIncident['updates'][number] }[] {
  return [...s.active, ...s.past]
    .flatMap((incident) => incident.updates.map((update) => ({ incident, update })))
    .sort((a, b) => b.update.at - a.update.at)
    .slice(0, FEED_ITEMS);
}

function feedOf(s: StatusSnapshot, base: string): Feed {
  const page = `${base}/status`;
  const items = updates(s);
  const feed = new Feed({
    id: page,
    title: feedText(s.title),
    link: page,
    description: feedText(`Incidents and updates of ${s.title}`),
    updated: new Date(items[0]?.update.at ?? s.at),
    generator: 'alert-triage',
    copyright: '',
    feedLinks: { atom: `${page}/feed.atom`, rss: `${page}/feed.rss`, json: `${page}/summary.json` },
  });
  for (const { incident, update } of items) {
    const link = `${page}#incident-${incident.publicId}`;
    feed.addItem({
      id: `${link}-${update.at}`,
      guid: `${link}-${update.at}`,
      title: feedText(`${STATE_LABEL[update.state]}: ${update.title}`),
      link,
      date: new Date(update.at),
      description: feedText(update.message),
    });
  }
  return feed;
}

export const atomFeed = (s: StatusSnapshot, base: string) => feedOf(s, base).atom1();
export const rssFeed = (s: StatusSnapshot, base: string) => feedOf(s, base).rss2();

/** The JSON summary: the overall status, each component's, the active incidents with their updates, and maintenance. */
export function jsonSummary(s: StatusSnapshot, base: string): object {
  let worst: ComponentStatus = 'operational';
  for (const c of s.components) worst = worse(worst, c.status);
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const incident = (i: PublicIncident) => ({
    id: i.publicId,
    title: i.title,
    state: i.state,
    startedAt: iso(i.startedAt),
    resolvedAt: iso(i.resolvedAt),
    url: `${base}/status#incident-${i.publicId}`,
    components: i.components,
    updates: i.updates.map((u) => ({ state: u.state, at: iso(u.at), message: u.message, components: u.components })),
  });
  return {
    page: { title: s.title, url: `${base}/status`, updatedAt: iso(s.at), stale: s.stale },
    status: { indicator: worst, description: STATUS_LABEL[worst] },
    components: s.components.map((v) => ({
      id: v.component.id,
      name: v.component.name,
      group: v.component.group,
      description: v.component.description,
      status: v.status,
      uptime90d: Math.round(v.uptime * 100_000) / 1000,
    })),
    incidents: s.active.map(incident),
    pastIncidents: s.past.slice(0, 20).map(incident),
    maintenance: s.maintenance.map((m) => ({ title: m.title, startsAt: iso(m.startsAt), endsAt: iso(m.endsAt), components: m.components })),
  };
}
