/**
 * Teams rooms and outgoing webhooks are named in the config (`to: ["teams:ops"]`) while their URLs
 * and secrets, which are credentials, live in the environment under a variable derived from the
 * name: `ops` is TEAMS_WEBHOOK_URL_OPS, `status-page` OUTGOING_WEBHOOK_URL_STATUS_PAGE.
 */
export function envSuffix(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

export const TEAMS_URL_PREFIX = 'TEAMS_WEBHOOK_URL_';
export const WEBHOOK_URL_PREFIX = 'OUTGOING_WEBHOOK_URL_';
export const WEBHOOK_SECRET_PREFIX = 'OUTGOING_WEBHOOK_SECRET_';
