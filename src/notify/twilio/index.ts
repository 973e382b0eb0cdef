import type { ChannelDefinition, ChannelSettings, ChannelState } from '../channel-definition.js';
import { PhoneNotifier, type PhoneChannel } from './phone-notifier.js';

function phone(channel: PhoneChannel, s: ChannelSettings, state: ChannelState): PhoneNotifier {
  return new PhoneNotifier(
    channel,
    {
      accountSid: s.twilioAccountSid,
      authToken: s.twilioAuthToken,
      apiKey: s.twilioApiKey,
      apiSecret: s.twilioApiSecret,
      apiUrl: s.twilioApiUrl,
      timeoutMs: s.twilioTimeoutMs,
      from: s.twilioFrom,
      voiceFrom: s.twilioVoiceFrom,
      publicUrl: s.publicUrl,
      fromIntervalMs: s.twilioFromIntervalMs,
      listWaitMs: s.twilioListWaitMs,
      now: s.now,
      ...(s.phoneIntervalMs !== undefined ? { pace: { intervalMs: s.phoneIntervalMs } } : {}),
    },
    { ...bind(state), markMethodFailed: s.markMethodFailed },
  );
}

/** The store's phone records, bound (the store is a class: its methods read `this`). */
function bind(state: ChannelState) {
  return {
    savePhoneMessage: state.savePhoneMessage.bind(state),
    phoneMessage: state.phoneMessage.bind(state),
    setPhoneStatus: state.setPhoneStatus.bind(state),
    phoneMessagesTo: state.phoneMessagesTo.bind(state),
    paceChannel: state.paceChannel.bind(state),
  };
}

/** Texts through Twilio: a person's number (E.164) is the target; storms fold into one text. */
export const smsChannel: ChannelDefinition = { name: 'sms', create: (s, state) => phone('sms', s, state) };

/** Calls through Twilio: the call reads the incident and takes a key (4 acknowledge, 6 resolve, 5 escalate, 1 repeat). */
export const voiceChannel: ChannelDefinition = { name: 'voice', create: (s, state) => phone('voice', s, state) };
