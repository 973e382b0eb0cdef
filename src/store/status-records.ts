import { severityRank } from '../classify/severity.js';
import { CONFIRMATIONS_TARGET, STATUS_EMAIL_CHANNEL, type StatusUpdateRecord } from '../incidents/status-page.js';
import type { EntryOf } from '../incidents/timeline.js';
import type { Notice } from '../outbox/page.js';
import { wellFormedJson } from '../well-formed.js';
import type { Op, Statement } from './oncall-records.js';
import type { NewSubscription, StatusSubscriber, SubscribeAttemptRule, SubscribeOutcome } from './store.js';

/**
 * The status page's records, written once for both engines as operations (see oncall-records.ts):
 * the public updates, read from the timeline through its partial indexes, the subscribers, their
 * confirmation e-mails (outbox notices) and the subscribe requests per client.
 */

interface SubscriberRow {
  id: number;
  email: string;
  components: string | null;
  confirm_token: string | null;
  unsubscribe_token: string;
  created_at: number;
  confirmed_at: number | null;
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

/**
 * The words of a confirmation notice. The link and the address are not in the outbox: the notifier
 * reads them from the subscriber's row when it sends, so the secret is in one table only, and a
 * subscription confirmed or deleted meanwhile gets no e-mail.
 */
const CONFIRMATION_NOTICE: Notice = { kind: 'status_confirmation', title: 'Confirm your subscription', lines: [] };

/**
 * The operations, with the engine's placeholder; `wake`, a statement that tells the other replicas'
 * dispatchers that pages were committed (PostgreSQL's NOTIFY), run after a confirmation is queued.
 */
export function statusRecords(param: (n: number) => string, wake?: Statement) {
  const p = param;
  const S = (sql: string, params: unknown[]): Statement => ({ sql, params });

  /** Queues the confirmation e-mail of subscriber `id`, in the transaction that asks for it: an outbox notice of no incident. */
  function* queueConfirmation(id: number, at: number): Op<void> {
    yield S(
      `INSERT INTO outbox (incident_id, channel, target, event, severity, priority, payload, status, next_attempt_at, created_at)
       VALUES (NULL, ${p(1)}, ${p(2)}, 'notice', 'low', ${p(3)}, ${p(4)}, 'pending', ${p(5)}, ${p(5)})`,
      [
        STATUS_EMAIL_CHANNEL,
        CONFIRMATIONS_TARGET,
        severityRank('low'),
        wellFormedJson({ mentions: [], recipients: [], cause: null, notice: CONFIRMATION_NOTICE, subscriber: id }),
        at,
      ],
    );
    yield S(`UPDATE status_subscribers SET confirm_sent_at = ${p(1)}, confirm_count = confirm_count + 1 WHERE id = ${p(2)}`, [at, id]);
    if (wake) yield wake;
  }

  /**
   * Counts a subscribe request of `client` at `at` against `rule` (a sliding window), for every
   * replica at once: undefined when it is taken (and counted), else when the client may ask again.
   * A refused request is not counted, so a client keeps at most `max` rows.
   */
  function* countRequest(client: string, at: number, rule: SubscribeAttemptRule): Op<number | undefined> {
    yield S(`DELETE FROM status_subscribe_attempts WHERE client = ${p(1)} AND at <= ${p(2)}`, [client, at - rule.windowMs]);
    const rows = yield S(`SELECT at FROM status_subscribe_attempts WHERE client = ${p(1)} ORDER BY at LIMIT ${p(2)}`, [client, rule.max]);
    if (rows.length >= rule.max) return Number(rows[0]!['at']) + rule.windowMs;
    yield S(`INSERT INTO status_subscribe_attempts (client, at) VALUES (${p(1)}, ${p(2)})`, [client, at]);
    return undefined;
  }

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
     * Asks for a subscription: a new address gets its confirmation e-mail queued in the outbox, in
     * this transaction; an address waiting already gets another only `minIntervalMs` after the last
     * and at most `maxMails` in all; a confirmed one is left as it is. With `client`, the request is
     * first counted against the client's rule, in the same transaction: whatever the address, a
     * request that is taken writes and commits once. The caller answers alike whatever this says,
     * but for a client over its rule.
     */
    *subscribe(s: NewSubscription): Op<SubscribeOutcome> {
      if (s.client) {
        const until = yield* countRequest(s.client.key, s.at, s.client.rule);
        if (until !== undefined) return { clientLimitedUntil: until };
      }
      const [row] = (yield S(`SELECT * FROM status_subscribers WHERE email = ${p(1)}`, [s.email])) as unknown as SubscriberRow[];
      const components = s.components === null ? null : wellFormedJson(s.components);
      if (!row) {
        const [made] = yield S(
          `INSERT INTO status_subscribers (email, components, confirm_token, unsubscribe_token, created_at, confirm_count)
           VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, 0) RETURNING id`,
          [s.email, components, s.confirmToken, s.unsubscribeToken, s.at],
        );
        yield* queueConfirmation(Number(made!['id']), s.at);
        return 'queued';
      }
      if (row.confirmed_at !== null) return 'subscribed';
      const last = num(row.confirm_sent_at);
      if (Number(row.confirm_count) >= s.maxMails || (last !== null && s.at - last < s.minIntervalMs)) return 'limited';
      yield S(`UPDATE status_subscribers SET components = ${p(1)} WHERE id = ${p(2)}`, [components, row.id]);
      yield* queueConfirmation(Number(row.id), s.at);
      return 'queued';
    },

    /** Deletes the subscribe requests counted before `before` (out of every window); how many. */
    *sweepSubscribeAttempts(before: number): Op<number> {
      return (yield S(`DELETE FROM status_subscribe_attempts WHERE at < ${p(1)} RETURNING client`, [before])).length;
    },

    /** Confirms the subscription of a confirmation token; false when there is none waiting (used, or swept). */
    *confirmSubscription(token: string, now: number): Op<boolean> {
      const rows = yield S(
        `UPDATE status_subscribers SET confirmed_at = ${p(1)}, confirm_token = NULL
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
