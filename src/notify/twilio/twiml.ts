// The `twilio` package's modules this needs, by path: its index loads every REST resource (about
// 1.8 s at start on a busy machine, against 0.2 s for these three).
import VoiceResponse from 'twilio/lib/twiml/VoiceResponse.js';
import MessagingResponse from 'twilio/lib/twiml/MessagingResponse.js';
import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import { CALL_MENU } from './phone-text.js';

// TwiML through the package's builders (VoiceResponse, MessagingResponse), which escape what they
// are given: the words of a call come from alert labels.

/** How many times the menu is offered before the call ends with no key. */
export const MENU_TRIES = 3;

/** The call's words, then the menu in a <Gather> of one key posted to `keyUrl`; without a key, offered again up to MENU_TRIES times. */
export function menuTwiml(speech: string, keyUrl: string, againUrl: string | undefined): string {
  const r = new VoiceResponse();
  const gather = r.gather({ numDigits: 1, timeout: 8, action: keyUrl, method: 'POST', actionOnEmptyResult: false });
  gather.say(`${speech} ${CALL_MENU}`);
  if (againUrl) r.redirect({ method: 'POST' }, againUrl);
  else r.say('No key was pressed. Goodbye.');
  return r.toString();
}

/** Says `text` and hangs up. */
export function sayTwiml(text: string): string {
  const r = new VoiceResponse();
  r.say(text);
  r.hangup();
  return r.toString();
}

/** The answer to an inbound text: `text`, or nothing (STOP and START, which Twilio answers itself). */
export function messageTwiml(text: string | undefined): string {
  const r = new MessagingResponse();
  if (text) r.message(text);
  return r.toString();
}

/**
 * Checks X-Twilio-Signature: HMAC-SHA1 of the URL Twilio called followed by the POST parameters
 * sorted by name, keyed by the auth token, base64; compared in constant time (the package's
 * validateRequest, which also tries the URL with and without its default port, as Twilio may sign
 * either).
 */
export function validTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: Record<string, string>,
): boolean {
  if (!signature) return false;
  return validateRequest(authToken, signature, url, params);
}
