import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { TransitionConflict } from '../incidents/incident-machine.js';
import type { Incident } from '../incidents/model.js';
import type { PhoneOutcome, Responder } from '../incidents/timeline.js';
import { callSpeech, HELP_TEXT, parseReply, type PhoneIncident } from '../notify/twilio/phone-text.js';
import { menuTwiml, messageTwiml, MENU_TRIES, sayTwiml, validTwilioSignature } from '../notify/twilio/twiml.js';
import { markFailed, markWorking } from '../paging/contact-methods.js';
import type { Contact } from '../paging/paging-config.js';
import type { IncidentService } from '../service/incident-service.js';
import type { IncidentStore } from '../store/store.js';
import { wellFormedDeep } from '../well-formed.js';

/** What Twilio's webhooks need. */
export interface TwilioRoutesOptions {
  /** TWILIO_AUTH_TOKEN: every request is signed with it; without it every request is refused. */
  authToken: string | undefined;
  /** PUBLIC_URL: the URLs Twilio calls, and signs, begin with it. */
  publicUrl: string | undefined;
  service: IncidentService;
  store: IncidentStore;
  clock: Clock;
  contacts: () => readonly Contact[];
  /** Counts each call's and text's outcome (triage_phone_outcomes_total). */
  observe: (channel: string, outcome: PhoneOutcome) => void;
}

type Form = Record<string, string>;

/** The incident ids of a page's URL ("12.13.14"), at most 100 of them. */
function idsOf(text: string | undefined): number[] {
  if (!text || !/^[1-9][0-9]{0,15}(\.[1-9][0-9]{0,15}){0,99}$/.test(text)) return [];
  return text.split('.').map(Number).filter(Number.isSafeInteger);
}

// Twilio's CallStatus values that end a call without a key (completed is judged by whether one was pressed).
const CALL_OUTCOME: Record<string, PhoneOutcome | undefined> = {
  ringing: 'ringing',
  'in-progress': 'answered',
  'no-answer': 'no_answer',
  busy: 'busy',
  failed: 'failed',
  canceled: 'failed',
};
const SMS_OUTCOME: Record<string, PhoneOutcome | undefined> = { delivered: 'delivered', undelivered: 'undelivered', failed: 'undelivered' };

/**
 * Twilio's webhooks: the words of a call (TwiML) and its keys, the calls' and texts' statuses, and
 * texts people send back. Each request must carry a valid X-Twilio-Signature over the public URL
 * it was sent to: an unsigned or forged one gets 403 and changes nothing.
 */
export async function twilioRoutes(app: FastifyInstance, opts: TwilioRoutesOptions): Promise<void> {
  const { service, store, clock } = opts;
  const base = opts.publicUrl?.replace(/\/+$/, '');
  // Twilio posts forms; parsed here, as received, so that the signature is checked over exactly what was sent.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    const form: Form = Object.create(null) as Form;
    for (const [k, v] of new URLSearchParams(body as string)) form[k] = v;
    done(null, form);
  });

  /** The form of a request Twilio signed, or undefined after answering 403. */
  const signed = (req: FastifyRequest, reply: FastifyReply): Form | undefined => {
    const form = (req.body ?? {}) as Form;
    const signature = req.headers['x-twilio-signature'];
    const ok =
      opts.authToken !== undefined &&
      base !== undefined &&
      validTwilioSignature(opts.authToken, typeof signature === 'string' ? signature : undefined, `${base}${req.url}`, form);
    if (!ok) {
      req.log.warn({ path: req.routeOptions.url }, 'Twilio webhook refused: missing or wrong X-Twilio-Signature');
      void reply.code(403).type('text/plain').send('invalid signature');
      return undefined;
    }
    return wellFormedDeep(form);
  };
  const xml = (reply: FastifyReply, twiml: string) => reply.code(200).type('text/xml').send(twiml);
  const query = (req: FastifyRequest) => req.query as Record<string, string | undefined>;
  const contactOf = (id: string | undefined) => opts.contacts().find((c) => c.id === id);

  /**
   * A call or text we do not know yet by sid: its request's answer was lost (a timeout, a crash),
   * but Twilio took it and now tells its status. Recorded by sid with the page its URL names, so
   * that the lookup before a resend finds it even while Twilio's lists do not show it yet.
   */
  const remember = async (channel: 'sms' | 'voice', sid: string, to: string, q: Record<string, string | undefined>, status: string) => {
    const ids = idsOf(q['incidents']);
    if (!sid || !ids.length) return;
    const page = /^[1-9][0-9]{0,15}$/.test(q['page'] ?? '') ? Number(q['page']) : null;
    const now = clock.now();
    await store.savePhoneMessage({
      sid,
      channel,
      to,
      contact: q['contact'] ?? '',
      pageId: page,
      incidentIds: ids,
      at: now,
      status,
      updatedAt: now,
    });
  };

  const phoneIncidents = async (ids: number[]): Promise<(PhoneIncident & { status: Incident['status']; by: string | null })[]> => {
    const out = [];
    for (const id of ids.slice(0, 20)) {
      const i = await store.getIncident(id, { offset: 0, limit: 0 });
      if (i) out.push({ id, severity: i.severity, title: i.title, status: i.status, by: i.acknowledgedBy });
    }
    return out;
  };

  /** Records an outcome on every incident of the call or text; `escalate` moves their escalation on. */
  const outcome = async (
    channel: string,
    ids: number[],
    to: string,
    contact: string,
    o: PhoneOutcome,
    extra: { digit?: string; escalate?: boolean; detail?: string } = {},
  ) => {
    opts.observe(channel, o);
    const name = contactOf(contact)?.name;
    for (const id of ids) {
      await service.phoneOutcome(
        id,
        {
          at: clock.now(),
          actor: contact,
          kind: 'phone',
          channel,
          to,
          contact,
          ...(name ? { name } : {}),
          outcome: o,
          ...(extra.digit ? { digit: extra.digit } : {}),
          ...(extra.detail ? { detail: extra.detail } : {}),
        },
        extra.escalate === true,
      );
    }
  };

  /** Acknowledges or resolves each incident; what happened, in words for a text or a call. */
  const act = async (action: 'ack' | 'resolve', ids: number[], who: Responder, onlyOpen = false): Promise<string> => {
    const done: number[] = [];
    const notes: string[] = [];
    for (const id of ids) {
      // "4" alone: the incidents of the recent texts that still wait, the others passed over in silence.
      if (onlyOpen && (await store.getIncident(id, { offset: 0, limit: 0 }))?.status !== 'open') continue;
      try {
        const r = action === 'ack' ? await service.acknowledge(id, who) : await service.resolve(id, who);
        if (!r.found) notes.push(`no incident ${id}`);
        else if (!r.changed) notes.push(`${id} was already ${r.incident.status}`);
        else done.push(id);
      } catch (err) {
        if (!(err instanceof TransitionConflict)) throw err;
        notes.push(`${id}: ${err.message.replace(/^incident \d+ is /, '')}`);
      }
    }
    const verb = action === 'ack' ? 'Acknowledged' : 'Resolved';
    const head = done.length
      ? `${verb} ${done.length === 1 ? `incident ${done[0]}` : `${done.length} incidents: ${done.map((i) => `#${i}`).join(' ')}`}.`
      : '';
    return (
      [head, ...notes.map((n) => `${n.charAt(0).toUpperCase()}${n.slice(1)}.`)].filter(Boolean).join(' ').slice(0, 300) ||
      'Nothing to do: every incident of the recent texts was already acknowledged.'
    );
  };

  const callQuery = (q: Record<string, string | undefined>, extra: Record<string, string> = {}) =>
    new URLSearchParams({
      incidents: q['incidents'] ?? '',
      contact: q['contact'] ?? '',
      ...(q['page'] ? { page: q['page'] } : {}),
      ...(q['last'] ? { last: q['last'] } : {}),
      ...extra,
    }).toString();

  // The call was answered: its words and the menu.
  app.post('/twilio/voice/answer', async (req, reply) => {
    const form = signed(req, reply);
    if (!form) return reply;
    const q = query(req);
    const items = await phoneIncidents(idsOf(q['incidents']));
    const open = items.filter((i) => i.status === 'open');
    if (!items.length) return xml(reply, sayTwiml('This page is about an incident that no longer exists. Goodbye.'));
    if (!open.length) {
      const i = items[0]!;
      return xml(reply, sayTwiml(`Incident ${i.id} was already ${i.status}${i.by ? ` by ${i.by}` : ''}. Nothing to do. Goodbye.`));
    }
    const tries = Number(q['try'] ?? '1');
    const again = tries < MENU_TRIES ? `${base}/twilio/voice/answer?${callQuery(q, { try: String(tries + 1) })}` : undefined;
    return xml(reply, menuTwiml(callSpeech(open), `${base}/twilio/voice/key?${callQuery(q)}`, again));
  });

  // A key pressed: 4 acknowledges, 6 resolves, 5 escalates, 1 repeats.
  app.post('/twilio/voice/key', async (req, reply) => {
    const form = signed(req, reply);
    if (!form) return reply;
    const q = query(req);
    const ids = idsOf(q['incidents']);
    const contact = contactOf(q['contact']);
    const digit = (form['Digits'] ?? '').slice(0, 1);
    const to = form['To'] ?? '';
    if (form['CallSid']) await store.setPhoneStatus(form['CallSid'], `key ${digit}`, clock.now());
    if (digit === '1')
      return xml(reply, menuTwiml(callSpeech(await phoneIncidents(ids)), `${base}/twilio/voice/key?${callQuery(q)}`, undefined));
    if (!contact) return xml(reply, sayTwiml('This number is not a known contact. Nothing was changed. Goodbye.'));
    const who: Responder = { name: contact.name, contact: contact.id, via: 'phone' };
    if (digit === '4' || digit === '6') {
      await outcome('voice', ids, to, contact.id, 'key_pressed', { digit });
      return xml(reply, sayTwiml(`${await act(digit === '4' ? 'ack' : 'resolve', ids, who)} Goodbye.`));
    }
    if (digit === '5') {
      await outcome('voice', ids, to, contact.id, 'key_pressed', { digit, escalate: true });
      return xml(reply, sayTwiml('Escalating to the next person now. Goodbye.'));
    }
    return xml(reply, menuTwiml('That key does nothing.', `${base}/twilio/voice/key?${callQuery(q)}`, undefined));
  });

  // A call's status: ringing, answered, and how it ended. An unanswered last call moves the escalation on.
  app.post('/twilio/voice/status', async (req, reply) => {
    const form = signed(req, reply);
    if (!form) return reply;
    const q = query(req);
    const sid = form['CallSid'] ?? '';
    const status = form['CallStatus'] ?? '';
    const known = sid ? await store.phoneMessage(sid) : undefined;
    const to = form['To'] ?? known?.to ?? '';
    if (!known) await remember('voice', sid, to, q, status);
    const contact = q['contact'] ?? known?.contact ?? '';
    const ids = idsOf(q['incidents']).length ? idsOf(q['incidents']) : (known?.incidentIds ?? []);
    let o = CALL_OUTCOME[status];
    // Answered and ended without a key: as good as no answer for the escalation.
    if (status === 'completed') o = known?.status.startsWith('key ') ? undefined : 'hung_up';
    // A key pressed stays the call's status: 'completed' after it is not a hang-up.
    if (sid && known && !known.status.startsWith('key ')) await store.setPhoneStatus(sid, status, clock.now());
    if (o && known?.status !== status) {
      const unanswered = o === 'no_answer' || o === 'busy' || o === 'failed' || o === 'hung_up';
      await outcome('voice', ids, to, contact, o, { escalate: unanswered && q['last'] === '1' });
    }
    return reply.code(204).send();
  });

  // A text's status: delivered or not; error 21610 means the person replied STOP.
  app.post('/twilio/sms/status', async (req, reply) => {
    const form = signed(req, reply);
    if (!form) return reply;
    const q = query(req);
    const sid = form['MessageSid'] ?? form['SmsSid'] ?? '';
    const status = form['MessageStatus'] ?? form['SmsStatus'] ?? '';
    const known = sid ? await store.phoneMessage(sid) : undefined;
    if (!known) await remember('sms', sid, form['To'] ?? '', q, status);
    const o = SMS_OUTCOME[status];
    if (sid && known?.status !== status) await store.setPhoneStatus(sid, status, clock.now());
    if (o && known?.status !== status) {
      const code = form['ErrorCode'];
      await outcome(
        'sms',
        idsOf(q['incidents']),
        form['To'] ?? known?.to ?? '',
        q['contact'] ?? known?.contact ?? '',
        o,
        code ? { detail: `Twilio error ${code}` } : {},
      );
    }
    return reply.code(204).send();
  });

  // A text sent to our number: "4 123" acknowledges, "6 123" resolves, "4" every incident of the last text, STOP and START.
  app.post('/twilio/sms', async (req, reply) => {
    const form = signed(req, reply);
    if (!form) return reply;
    const from = form['From'] ?? '';
    const contact = await service.contactByNumber(from, 'sms');
    if (!contact) return xml(reply, messageTwiml('This number is not on the on-call list; nothing was changed.'));
    const r = parseReply(form['Body'] ?? '');
    const now = clock.now();
    const recent = await store.phoneMessagesTo('sms', from, now - 3_600_000);
    const last = recent[0] ?? (await store.phoneMessagesTo('sms', from, now - 24 * 3_600_000))[0];
    if (r.action === 'stop' || r.action === 'start') {
      const reason = 'replied STOP';
      await store.updateContactSettings(contact.id, (s) => ({
        settings: r.action === 'stop' ? markFailed(s, 'sms', from, reason, now) : markWorking(s, 'sms', from),
        result: undefined,
      }));
      if (last) await outcome('sms', last.incidentIds, from, contact.id, r.action);
      // Twilio answers STOP and START itself (its opt-out handling).
      return xml(reply, messageTwiml(undefined));
    }
    if (r.action === 'help') return xml(reply, messageTwiml(HELP_TEXT));
    // "4" alone: every incident of the texts of the last hour (a storm's digests), or of the last text.
    const ids =
      r.incident !== undefined
        ? [r.incident]
        : [...new Set((recent.length ? recent : last ? [last] : []).flatMap((m) => m.incidentIds))].sort((a, b) => a - b);
    if (!ids.length) return xml(reply, messageTwiml(`No recent text to act on. ${HELP_TEXT}`));
    const text = await act(r.action, ids, { name: contact.name, contact: contact.id, via: 'sms' }, r.incident === undefined);
    return xml(reply, messageTwiml(text));
  });
}
