import { channelProblems } from '../config/channel-env.js';
import type { EnvSettings } from '../config/env.js';
import { loadConfigFile } from '../config/load-config.js';
import { httpRequest } from '../notify/http-post.js';

type Outcome = { ok: true; detail: string } | { ok: false; detail: string } | { skipped: string };

const TIMEOUT_MS = 5000;

/** The routed-but-unset problems of one channel, by the variable names its messages start with. */
function problemsOf(e: EnvSettings, prefix: RegExp): string[] {
  let paging;
  try {
    paging = loadConfigFile(e.configPath).paging;
  } catch {
    return []; // the config check says what is wrong with the file
  }
  return channelProblems(e, paging).filter((p) => prefix.test(p));
}

const call = (service: string, url: string, headers: Record<string, string> = {}) =>
  httpRequest({ service, method: 'GET', url, headers, timeoutMs: TIMEOUT_MS, signal: new AbortController().signal });

/**
 * One doctor line for each of Teams, Mattermost, ntfy and outgoing webhooks that is configured or
 * routed to (none when neither). Only what can be checked without sending a page is called: a
 * Workflows URL, a Mattermost incoming webhook or a webhook receiver would take a check as a message.
 */
export function channelChecks(e: EnvSettings): [string, () => Promise<Outcome>][] {
  const checks: [string, () => Promise<Outcome>][] = [];
  const teams = Object.keys(e.teamsWebhookUrls);
  const teamsProblems = problemsOf(e, /^TEAMS_/);
  if (teams.length || teamsProblems.length)
    checks.push([
      'teams',
      async () =>
        teamsProblems.length
          ? { ok: false, detail: teamsProblems.join('; ') }
          : {
              ok: true,
              detail: `${teams.length} room URL(s) set (${teams.join(', ')}); not called: a Workflows URL posts whatever it gets`,
            },
    ]);

  const mmProblems = problemsOf(e, /^MATTERMOST/);
  if (e.mattermostUrl || e.mattermostWebhookUrl || mmProblems.length) checks.push(['mattermost', () => checkMattermost(e, mmProblems)]);

  const ntfyProblems = problemsOf(e, /^NTFY_/);
  if (e.ntfyUrl || ntfyProblems.length) checks.push(['ntfy', () => checkNtfy(e, ntfyProblems)]);

  const hooks = Object.keys(e.outgoingWebhooks);
  const hookProblems = problemsOf(e, /^OUTGOING_WEBHOOK/);
  if (hooks.length || hookProblems.length)
    checks.push([
      'webhooks',
      async () =>
        hookProblems.length
          ? { ok: false, detail: hookProblems.join('; ') }
          : {
              ok: true,
              detail: `${hooks.length} webhook(s) with URL and secret (${hooks.join(', ')}); not called: a receiver would take a check as an event`,
            },
    ]);
  return checks;
}

async function checkMattermost(e: EnvSettings, problems: string[]): Promise<Outcome> {
  if (problems.length) return { ok: false, detail: problems.join('; ') };
  if (!e.mattermostUrl) return { ok: true, detail: 'incoming webhook set (no threads, no lookups); not called: it would post' };
  try {
    const r = await call('Mattermost', `${e.mattermostUrl.replace(/\/+$/, '')}/api/v4/users/me`, {
      authorization: `Bearer ${e.mattermostBotToken!}`,
    });
    const me = JSON.parse(r.text) as { username?: string };
    return { ok: true, detail: `${new URL(e.mattermostUrl).host}: the bot token works (@${me.username ?? '?'})` };
  } catch (err) {
    return { ok: false, detail: `${new URL(e.mattermostUrl).host}: ${(err as Error).message}` };
  }
}

async function checkNtfy(e: EnvSettings, problems: string[]): Promise<Outcome> {
  if (problems.length || !e.ntfyUrl) return { ok: false, detail: problems.join('; ') };
  const base = e.ntfyUrl.replace(/\/+$/, '');
  const host = new URL(base).host;
  try {
    const health = JSON.parse((await call('ntfy', `${base}/v1/health`)).text) as { healthy?: boolean };
    if (health.healthy !== true) return { ok: false, detail: `${host}: /v1/health says it is not healthy` };
    if (!e.ntfyToken) return { ok: true, detail: `${host} is healthy; no NTFY_TOKEN: publishing anonymously` };
    await call('ntfy', `${base}/v1/account`, { authorization: `Bearer ${e.ntfyToken}` });
    return { ok: true, detail: `${host} is healthy and takes NTFY_TOKEN` };
  } catch (err) {
    return { ok: false, detail: `${host}: ${(err as Error).message}` };
  }
}
