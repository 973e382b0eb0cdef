import { LogLevel, WebClient } from '@slack/web-api';

/** How every part of the service talks to Slack: SLACK_BOT_TOKEN, SLACK_API_URL, a timeout. */
export interface SlackClientSettings {
  token: string;
  apiUrl?: string | undefined;
  timeoutMs?: number | undefined;
  /** The fetch under the client (the notifier's adds its shutdown signal). */
  fetch?: typeof fetch;
}

/**
 * The real @slack/web-api client, one way for the notifier, the user-group sync and doctor: the
 * client's own retries are off and a 429 is refused at once, because the outbox (pacing, Retry-After)
 * or the scheduler's next pass decides when to try again; failures are reported by the service
 * itself (timeline, log), so the client logs errors only.
 */
export function slackWebClient(s: SlackClientSettings): WebClient {
  return new WebClient(s.token, {
    ...(s.apiUrl ? { slackApiUrl: s.apiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: s.timeoutMs ?? 10_000,
    ...(s.fetch ? { fetch: s.fetch } : {}),
    logLevel: LogLevel.ERROR,
  });
}
