import type { PhoneMessage } from '../notify/channel-definition.js';
import type { PersonSettings } from '../paging/contact-methods.js';
import { wellFormedJson } from '../well-formed.js';
import type { Engine } from './rows.js';

// The rows of the phone channels' calls and texts and of each person's contact settings, written
// the same by both engines (JSON kept as text in both, so one statement serves each).

export interface PhoneMessageRow {
  sid: string;
  channel: string;
  to_number: string;
  contact: string;
  page_id: number | null;
  incident_ids: string;
  sent_at: number;
  status: string;
  updated_at: number;
}

export interface ContactSettingsRow {
  contact: string;
  settings: string;
  version: number;
}

export const toPhoneMessage = (r: PhoneMessageRow): PhoneMessage => ({
  sid: r.sid,
  channel: r.channel,
  to: r.to_number,
  contact: r.contact,
  pageId: r.page_id === null ? null : Number(r.page_id),
  incidentIds: JSON.parse(r.incident_ids) as number[],
  at: Number(r.sent_at),
  status: r.status,
  updatedAt: Number(r.updated_at),
});

export const phoneMessageValues = (m: PhoneMessage): unknown[] => [
  m.sid,
  m.channel,
  m.to,
  m.contact,
  m.pageId,
  JSON.stringify(m.incidentIds),
  m.at,
  m.status,
  m.updatedAt,
];

export const toSettings = (r: ContactSettingsRow): PersonSettings => JSON.parse(r.settings) as PersonSettings;
export const settingsText = (s: PersonSettings): string => wellFormedJson(s);

/** The statements of both engines, with the engine's placeholders. */
export function contactSql(e: Engine) {
  const p = e.param;
  return {
    savePhoneMessage: `INSERT INTO phone_messages (sid, channel, to_number, contact, page_id, incident_ids, sent_at, status, updated_at)
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}) ON CONFLICT (sid) DO NOTHING`,
    phoneMessage: `SELECT * FROM phone_messages WHERE sid = ${p(1)}`,
    // A status that arrives late (Twilio does not promise order) never overwrites a later one.
    setPhoneStatus: `UPDATE phone_messages SET status = ${p(1)}, updated_at = ${p(2)} WHERE sid = ${p(3)} AND updated_at <= ${p(4)}`,
    phoneMessagesTo: `SELECT * FROM phone_messages WHERE channel = ${p(1)} AND to_number = ${p(2)} AND sent_at >= ${p(3)}
       ORDER BY sent_at DESC, sid DESC LIMIT 500`,
    settingsOf: `SELECT * FROM contact_settings WHERE contact = ${p(1)}`,
    allSettings: `SELECT * FROM contact_settings ORDER BY contact`,
    insertSettings: `INSERT INTO contact_settings (contact, settings, version) VALUES (${p(1)}, ${p(2)}, 1) ON CONFLICT (contact) DO NOTHING RETURNING version`,
    updateSettings: `UPDATE contact_settings SET settings = ${p(1)}, version = version + 1 WHERE contact = ${p(2)} AND version = ${p(3)} RETURNING version`,
  };
}
