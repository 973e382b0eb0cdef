import type { ChannelSettings, PhoneRecords } from '../channel-definition.js';
import { waitForFromSlot } from './phone-notifier.js';
import { TwilioApi, TwilioError } from './twilio-api.js';

// The text that carries the code a person types back on /me to prove a number is theirs. Not a
// page: it is sent while the person waits for it, at least once (a copy carries the same code), and
// paced per from-number with the pages. The code is in the text and nowhere else: never logged.

/** What the code's text says: one GSM-7 segment. */
export const codeText = (code: string): string =>
  `alert-triage: your code is ${code}. It ends in 10 minutes. If you did not add this number, ignore this text.`;

/** Sends a code by text; throws a TwilioError (its `retryable`, `maybeDelivered` and `code` say what came of it). */
export interface CodeSender {
  /** The number texts come from, and calls (for the vCard). */
  from: { sms: string; voice: string };
  send(to: string, code: string): Promise<void>;
}

/** A sender through Twilio, or why there is none (Twilio not configured). */
export function codeSender(s: ChannelSettings, state: Pick<PhoneRecords, 'paceChannel'>): CodeSender | { notConfigured: string } {
  const from = s.twilioFrom;
  if (!s.twilioAccountSid || !from || !(s.twilioAuthToken || (s.twilioApiKey && s.twilioApiSecret)))
    return { notConfigured: 'Twilio is not configured on this service (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM)' };
  const api = new TwilioApi({
    accountSid: s.twilioAccountSid,
    authToken: s.twilioAuthToken,
    apiKey: s.twilioApiKey,
    apiSecret: s.twilioApiSecret,
    apiUrl: s.twilioApiUrl,
    timeoutMs: s.twilioTimeoutMs,
  });
  const now = s.now ?? Date.now;
  return {
    from: { sms: from, voice: s.twilioVoiceFrom ?? from },
    async send(to, code) {
      await waitForFromSlot(state, from, s.twilioFromIntervalMs ?? 1000, now());
      await api.createMessage({ to, from, body: codeText(code) });
    },
  };
}

export { TwilioError };
