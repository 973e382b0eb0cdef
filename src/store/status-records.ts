import type { StatusUpdateRecord } from '../incidents/status-page.js';
import type { EntryOf } from '../incidents/timeline.js';
import { wellFormedJson } from '../well-formed.js';
import type { Op, Statement } from './oncall-records.js';
import type { NewSubscription, StatusSubscriber, SubscribeOutcome } from './store.js';

/**
 * The status page's records, written once for both engines as operations (see oncall-records.ts):
 * the public updates, read from the timeline through its partial indexes, and the subscribers.
 */

interface SubscriberRow {
  id: number;
  email: string;
  components: string | null;
  confirm_token: string | null;
  unsubscribe_token: string;
  created_at: number;
  confirmed_at: number | null;
  confirm_due_at: number | null;
  confirm_sent_at: number | null;
  confirm_count: number;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toSubscriber(r: SubscriberRow): StatusSubscriber {
  return {
    id: Number(r.id),
    email: r.email,
    components: r.components === null ? null : (JSON.parse(r.components) as string[]),
    confirmToken: r.confirm_token,
    unsubscribeToken: r.unsubscribe_token,
    createdAt: Number(r.created_at),
    confirmedAt: num(r.confirmed_at),
    confirmSentAt: num(r.confirm_sent_at),
  };
}

export function statusRecords(param: (n: number) => string) {
  const p = param;
  const S = (sql: string, params: unknown[]): Statement => ({ sql, params });

  return {
    /**
     * The public updates of every incident that had one at or after `since`, or that is not resolved,
     * oldest first, at most `limit`. Reads the timeline's partial indexes on kind 'status_update'.
     */
    *statusUpdates(since: number, limit: number): Op<StatusUpdateRecord[]> {
      const rows = yield S(
        `SELECT incident_id, at, data FROM timeline
         WHERE kind = 'status_update' AND incident_id IN (
           SELECT incident_id FROM timeline WHERE kind = 'status_update' AND at >= ${p(1)}
           UNION SELECT id FROM incidents WHERE status <> 'resolved')
         ORDER BY at, id LIMIT ${p(2)}`,
        [since, limit],
      );
      return rows.map((r) => {
        const raw = r['data'];
        const d = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Omit<EntryOf<'status_update'>, 'at' | 'actor' | 'kind'>;
        return {
          incidentId: Number(r['incident_id']),
          at: Number(r['at']),
          state: d.state,
          title: d.title,
          message: d.message,
          components: d.components,
        };
      });
    },

    /**
     * Asks for a subscription: a new address waits for its confirmation e-mail; an address waiting
     * already gets another only `minIntervalMs` after the last and at most `maxMails` in all; a
     * confirmed one is left as it is. The caller answers alike whatever this says.
     */
    *subscribe(s: NewSubscription): Op<SubscribeOutcome> {
      const [row] = (yield S(`SELECT * FROM status_subscribers WHERE email = ${p(1)}`, [s.email])) as unknown as SubscriberRow[];
      const components = s.components === null ? null : wellFormedJson(s.components);
      if (!row) {
        yield S(
          `INSERT INTO status_subscribers (email, components, confirm_token, unsubscribe_token, created_at, confirm_due_at, confirm_count)
           VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, 0)`,
          [s.email, components, s.confirmToken, s.unsubscribeToken, s.at, s.at],
        );
        return 'queued';
      }
      if (row.confirmed_at !== null) return 'subscribed';
      const last = num(row.confirm_sent_at);
      if (row.confirm_due_at !== null || Number(row.confirm_count) >= s.maxMails || (last !== null && s.at - last < s.minIntervalMs))
        return 'limited';
      yield S(`UPDATE status_subscribers SET components = ${p(1)}, confirm_due_at = ${p(2)} WHERE id = ${p(3)}`, [
        components,
        s.at,
        row.id,
      ]);
      return 'queued';
    },

    /** Claims the confirmation e-mails due by `now` (each once, across replicas): they are marked sent before they are sent. */
    *claimConfirmations(now: number, limit: number): Op<StatusSubscriber[]> {
      const rows = (yield S(
        `UPDATE status_subscribers SET confirm_due_at = NULL, confirm_sent_at = ${p(1)}, confirm_count = confirm_count + 1
         WHERE id IN (SELECT id FROM status_subscribers WHERE confirm_due_at IS NOT NULL AND confirm_due_at <= ${p(2)} ORDER BY confirm_due_at LIMIT ${p(3)})
           AND confirm_due_at IS NOT NULL AND confirmed_at IS NULL
         RETURNING *`,
        [now, now, limit],
      )) as unknown as SubscriberRow[];
      return rows.map(toSubscriber);
    },

    /** Confirms the subscription of a confirmation token; false when there is none waiting (used, or swept). */
    *confirmSubscription(token: string, now: number): Op<boolean> {
      const rows = yield S(
        `UPDATE status_subscribers SET confirmed_at = ${p(1)}, confirm_token = NULL, confirm_due_at = NULL
         WHERE confirm_token = ${p(2)} AND confirmed_at IS NULL RETURNING id`,
        [now, token],
      );
      return rows.length > 0;
    },

    /** Deletes the subscription of an unsubscribe token; false when there is none. */
    *unsubscribe(token: string): Op<boolean> {
      return (yield S(`DELETE FROM status_subscribers WHERE unsubscribe_token = ${p(1)} RETURNING id`, [token])).length > 0;
    },

    *subscriber(id: number): Op<StatusSubscriber | undefined> {
      const [row] = (yield S(`SELECT * FROM status_subscribers WHERE id = ${p(1)}`, [id])) as unknown as SubscriberRow[];
      return row ? toSubscriber(row) : undefined;
    },

    /** Every confirmed subscriber's id and components: who an update is e-mailed to. */
    *confirmedSubscribers(): Op<{ id: number; components: string[] | null }[]> {
      const rows = (yield S(
        `SELECT id, components FROM status_subscribers WHERE confirmed_at IS NOT NULL ORDER BY id`,
        [],
      )) as unknown as Pick<SubscriberRow, 'id' | 'components'>[];
      return rows.map((r) => ({ id: Number(r.id), components: r.components === null ? null : (JSON.parse(r.components) as string[]) }));
    },

    /** Every subscriber, for an admin's export. */
    *listSubscribers(): Op<StatusSubscriber[]> {
      return ((yield S(`SELECT * FROM status_subscribers ORDER BY id`, [])) as unknown as SubscriberRow[]).map(toSubscriber);
    },

    *deleteSubscriber(email: string): Op<boolean> {
      return (yield S(`DELETE FROM status_subscribers WHERE email = ${p(1)} RETURNING id`, [email])).length > 0;
    },

    /** Deletes the subscriptions never confirmed that were asked for before `before`; how many. */
    *sweepUnconfirmed(before: number): Op<number> {
      return (yield S(`DELETE FROM status_subscribers WHERE confirmed_at IS NULL AND created_at < ${p(1)} RETURNING id`, [before])).length;
    },
  };
}
