import type { Test } from 'tap';
import type { ChannelSettings } from '../../../src/notify/registry.js';
import { parseConfig } from '../../../src/config/load-config.js';
import { shippedConfigText } from '../../helpers.js';
import { pagingApp, type PagingApp } from '../paging-helpers.js';
import { TwilioApiServer, type Transport } from '../../fakes/twilio-api-server.js';

export const ACCOUNT_SID = 'AC00000000000000000000000000000001';
export const AUTH_TOKEN = 'twilio-auth-token-for-tests';
export const FROM = '+15005550006';
export const PUBLIC_URL = 'https://triage.example.com';
export const PHONES = { alice: '+33600000001', bob: '+33600000002', carol: '+33600000003', dan: '+33600000004' } as const;

/**
 * The shipped config with a phone for every contact, Carol alone on call, and a Critical that pages
 * the on-call (escalating to Bob at 10 minutes), unless `edit` changes the text.
 */
export function phoneConfigText(edit: (text: string) => string = (t) => t): string {
  let text = shippedConfigText();
  for (const [id, phone] of Object.entries(PHONES)) text = text.replace(`  - id: ${id}\n`, `  - id: ${id}\n    phone: "${phone}"\n`);
  text = text
    // A Critical's deadline past the calls, so that a breach does not move the escalation on by itself.
    .replace('\n  critical: 5m\n', '\n  critical: 30m\n')
    .replace('members: [carol, dan, alice]', 'members: [carol]')
    .replace(
      'critical: { channels: ["#security-incident"], notify: [oncall, security-lead, cto], email: true }',
      'critical: { channels: ["#security-incident"], notify: [oncall], email: false }',
    )
    .replace(
      '      - { after: 5m, notify: [security-lead, cto] }\n      - { after: 15m, notify: [cto, devops] }',
      '      - { after: 10m, notify: [cto] }\n      - { after: 20m, notify: [security-lead] }',
    );
  return edit(text);
}

export interface PhoneApp extends PagingApp {
  twilio: TwilioApiServer;
}

/** The app with Slack, SMTP and a Twilio stand-in whose webhooks reach the app (through inject), under a manual clock. */
export async function phoneApp(
  t: Test,
  opts: { edit?: (text: string) => string; timeoutMs?: number; channels?: Partial<ChannelSettings> } = {},
): Promise<PhoneApp> {
  const twilio = await new TwilioApiServer(ACCOUNT_SID, AUTH_TOKEN, [FROM]).start();
  t.teardown(() => twilio.stop());
  const triage = parseConfig(phoneConfigText(opts.edit), 'triage.yml');
  const app = await pagingApp(
    t,
    { triage },
    {},
    {
      twilioAccountSid: ACCOUNT_SID,
      twilioAuthToken: AUTH_TOKEN,
      twilioApiUrl: twilio.url,
      twilioFrom: FROM,
      twilioFromIntervalMs: 0,
      twilioTimeoutMs: opts.timeoutMs ?? 2000,
      publicUrl: PUBLIC_URL,
      ...opts.channels,
    },
  );
  twilio.now = () => app.clock.now();
  twilio.smsUrl = `${PUBLIC_URL}/twilio/sms`;
  twilio.transport = injectTransport(app);
  return { ...app, twilio };
}

/** Twilio's requests to PUBLIC_URL, delivered to the app in-process. */
export function injectTransport(app: Pick<PagingApp, 'app'>): Transport {
  return async (url, form, headers) => {
    const u = new URL(url);
    const res = await app.app.inject({
      method: 'POST',
      url: `${u.pathname}${u.search}`,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString(),
    });
    return { status: res.statusCode, body: res.body };
  };
}
