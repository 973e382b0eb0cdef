/** A config whose Critical and High (and the payments team's High) reach nobody; the team's Critical escalates to alice. */
export const PAGES_NOBODY = `sla: {critical: 5m, high: 1h, medium: 4h, low: 24h}
classification: {defaultSeverity: critical, rules: []}
contacts:
  - {id: alice, name: Alice, email: alice@example.com, roles: [lead]}
  - {id: sam, name: Sam Slack-only, slack: U0SAM, roles: [chat]}
routing:
  critical: {channels: [], notify: [], email: false}
  high: {channels: [], notify: [alice], email: false}
  medium: {channels: []}
  low: {channels: []}
teams:
  - id: payments
    name: Payments
    match: ['team="payments"']
    routing:
      high: {channels: [], notify: [chat], email: true}
    escalation:
      critical: {steps: [{after: 5m, notify: [lead]}]}
`;
