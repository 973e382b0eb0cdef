import type { Labels } from '../classify/matcher.js';

// A drill (`alert-triage fire`) says so in its group labels, as Alertmanager would for a route that
// groups by them: drill="true"; drill_live="true" to page the real route; drill_notify="<contact>"
// to page the person running it instead of the drill route's people.

/** How a drill incident is paged, or undefined for a real one. */
export interface Drill {
  /** Page the real route, as for a real incident. */
  live: boolean;
  /** The contact to page instead of the drill route's people, when given. */
  notify: string | undefined;
}

export function drillOf(groupLabels: Labels): Drill | undefined {
  if (groupLabels['drill'] !== 'true') return undefined;
  return { live: groupLabels['drill_live'] === 'true', notify: groupLabels['drill_notify'] || undefined };
}

/** The prefix every title, and so every page, of a drill carries. */
export const DRILL_PREFIX = '[DRILL] ';
