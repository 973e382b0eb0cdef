import { ErrorCode, type WebClient } from '@slack/web-api';
import { slackWebClient } from './web-client.js';

/** Settings of the user-group sync: the bot token of the Slack channel (SLACK_BOT_TOKEN), SLACK_API_URL. */
export interface SlackUsergroupSettings {
  token: string | undefined;
  apiUrl?: string | undefined;
  timeoutMs?: number | undefined;
}

/** A failed call: Slack's own error ("no_such_subteam", "missing_scope: usergroups:write"), and its Retry-After on a 429. */
export class UsergroupError extends Error {
  override name = 'UsergroupError';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const SLACK_ID = /^S[A-Z0-9]+$/;

/**
 * Keeps Slack user groups (e.g. @oncall-payments) equal to who is on call, with the real
 * @slack/web-api client: usergroups.users.update (usergroups:write), and usergroups.list
 * (usergroups:read) to find a group named by its handle. Its own retries are off: the scheduler's
 * next pass tries again.
 */
export class SlackUsergroups {
  readonly notConfigured: string | undefined;
  private readonly client: WebClient | undefined;
  /** Group IDs by handle, learned from usergroups.list. */
  private readonly ids = new Map<string, string>();

  constructor(settings: SlackUsergroupSettings) {
    this.notConfigured = settings.token ? undefined : 'Slack is not configured (SLACK_BOT_TOKEN unset)';
    this.client = settings.token
      ? slackWebClient({ token: settings.token, apiUrl: settings.apiUrl, timeoutMs: settings.timeoutMs })
      : undefined;
  }

  /** Sets the members of `group` (a handle or an S… ID) to `users` (member IDs). */
  async update(group: string, users: readonly string[]): Promise<void> {
    const client = this.require();
    const id = await this.idOf(group);
    await slack(() => client.usergroups.users.update({ usergroup: id, users: users.join(',') }));
  }

  /**
   * What `doctor` checks, without changing anything: the token's scopes (usergroups:write, and
   * usergroups:read for a group named by handle) and that each group exists. Problems in words.
   */
  async check(groups: readonly string[]): Promise<string[]> {
    const client = this.require();
    const auth = await slack(() => client.auth.test());
    const scopes = new Set(auth.response_metadata?.scopes ?? []);
    const problems: string[] = [];
    if (!scopes.has('usergroups:write')) problems.push('the bot token lacks the usergroups:write scope');
    const byHandle = groups.filter((g) => !SLACK_ID.test(g));
    if (byHandle.length && !scopes.has('usergroups:read'))
      problems.push(`the bot token lacks usergroups:read, needed to find ${byHandle.map((g) => `@${g}`).join(', ')} by handle`);
    else for (const g of groups) await this.idOf(g, true).catch((err: unknown) => problems.push(`@${g}: ${(err as Error).message}`));
    return problems;
  }

  /** The ID of a group: an S… ID as it is, a handle looked up (once, unless `fresh`). */
  private async idOf(group: string, fresh = false): Promise<string> {
    if (SLACK_ID.test(group)) {
      if (!fresh) return group;
    } else if (!fresh && this.ids.has(group)) return this.ids.get(group)!;
    const client = this.require();
    const r = await slack(() => client.usergroups.list({ include_disabled: false }));
    for (const g of r.usergroups ?? []) if (g.handle && g.id) this.ids.set(g.handle, g.id);
    const id = SLACK_ID.test(group) ? (r.usergroups ?? []).find((g) => g.id === group)?.id : this.ids.get(group);
    if (!id) throw new UsergroupError(`no Slack user group ${SLACK_ID.test(group) ? group : `@${group}`} (create it in Slack first)`);
    return id;
  }

  private require(): WebClient {
    if (!this.client) throw new UsergroupError(this.notConfigured!);
    return this.client;
  }
}

/** One Web API call, its failure as a UsergroupError in Slack's words. */
async function slack<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as { code?: string; data?: { error?: string; needed?: string }; retryAfter?: number; message: string };
    if (e.code === ErrorCode.RateLimitedError) throw new UsergroupError('Slack rate limit (429)', (e.retryAfter ?? 60) * 1000);
    if (e.code === ErrorCode.PlatformError)
      throw new UsergroupError(`Slack: ${e.data?.error ?? 'unknown_error'}${e.data?.needed ? ` (needs ${e.data.needed})` : ''}`);
    throw new UsergroupError(`Slack unreachable: ${e.message}`);
  }
}
