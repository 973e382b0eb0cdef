// The words of the public status (docs/status-page.md): where an incident stands and how a
// component is doing. Apart from status-page.ts so that the timeline can name them without
// importing the status page's functions, which read the timeline.

/** A component's status, from best to worst; `maintenance` comes from scheduled maintenance only. */
export const COMPONENT_STATUSES = ['operational', 'maintenance', 'degraded_performance', 'partial_outage', 'major_outage'] as const;
export type ComponentStatus = (typeof COMPONENT_STATUSES)[number];
/** What a person may set a component to in an update. */
export const SETTABLE_STATUSES: readonly ComponentStatus[] = ['operational', 'degraded_performance', 'partial_outage', 'major_outage'];

/** Where an incident stands for the public (Statuspage's and Cachet's words). */
export const UPDATE_STATES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type UpdateState = (typeof UPDATE_STATES)[number];

export const STATUS_LABEL: Record<ComponentStatus, string> = {
  operational: 'Operational',
  maintenance: 'Under maintenance',
  degraded_performance: 'Degraded performance',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
};
export const STATE_LABEL: Record<UpdateState, string> = {
  investigating: 'Investigating',
  identified: 'Identified',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
};

const rank = (s: ComponentStatus) => COMPONENT_STATUSES.indexOf(s);
export const worse = (a: ComponentStatus, b: ComponentStatus): ComponentStatus => (rank(b) > rank(a) ? b : a);

/** One component's status in an update. */
export interface ComponentState {
  id: string;
  status: ComponentStatus;
}
