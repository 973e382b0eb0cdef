import type Database from 'better-sqlite3';
import type { Severity } from '../classify/severity.js';
import { fromLegacy } from './legacy-timeline.js';
/** A migration: SQL, or a function for a step SQL alone cannot do. */
export type Migration = string | ((db: Database.Database) => void);

/**
 * Ids are plain INTEGER PRIMARY KEYs (rowids): rows are never deleted, so they only grow, and
 * AUTOINCREMENT would cost an extra write per insert on the webhook's path.
 *
 * Schema migrations, applied in order inside one transaction each. Never edit a released entry:
 * add a new one. PRAGMA user_version records how many have run.
 */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY,
    key             TEXT    NOT NULL,
    receiver        TEXT    NOT NULL,
    group_key       TEXT    NOT NULL,
    group_labels    TEXT    NOT NULL,
    external_url    TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    severity        TEXT    NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    rule            TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    opened_at       INTEGER NOT NULL,
    respond_by      INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    resolved_at     INTEGER,
    resolved_by     TEXT,
    sla_breached    INTEGER NOT NULL DEFAULT 0,
    breached_at     INTEGER
  );
  -- One active incident per group: this index is what makes opening an incident an idempotent upsert.
  CREATE UNIQUE INDEX incidents_active_key ON incidents (key) WHERE status <> 'resolved';
  CREATE INDEX incidents_resolved_key ON incidents (key, id) WHERE status = 'resolved';
  CREATE INDEX incidents_overdue ON incidents (respond_by) WHERE status = 'open' AND sla_breached = 0;

  CREATE TABLE alerts (
    incident_id   INTEGER NOT NULL REFERENCES incidents (id),
    fingerprint   TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('firing', 'resolved')),
    labels        TEXT    NOT NULL,
    annotations   TEXT    NOT NULL,
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER,
    generator_url TEXT    NOT NULL,
    severity      TEXT    NOT NULL,
    rule          TEXT    NOT NULL,
    PRIMARY KEY (incident_id, fingerprint)
  ) WITHOUT ROWID;

  CREATE TABLE timeline (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    detail      TEXT    NOT NULL
  );
  CREATE INDEX timeline_incident ON timeline (incident_id, at, id);
  CREATE TRIGGER timeline_append_only_update BEFORE UPDATE ON timeline
    BEGIN SELECT RAISE(ABORT, 'timeline is append-only'); END;
  CREATE TRIGGER timeline_append_only_delete BEFORE DELETE ON timeline
    BEGIN SELECT RAISE(ABORT, 'timeline is append-only'); END;
  `,
  `
  -- Paging: escalation state on the incident, the outbox, and the Slack message of each incident per channel.
  ALTER TABLE incidents ADD COLUMN escalation_step INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE incidents ADD COLUMN reminders INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE incidents ADD COLUMN next_escalation_at INTEGER;
  CREATE INDEX incidents_escalation ON incidents (next_escalation_at) WHERE status = 'open' AND next_escalation_at IS NOT NULL;

  CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    incident_id     INTEGER NOT NULL REFERENCES incidents (id),
    channel         TEXT    NOT NULL,
    target          TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    priority        INTEGER NOT NULL,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'folded')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    maybe_sent      INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    external_ref    TEXT,
    last_error      TEXT
  );
  CREATE INDEX outbox_due ON outbox (next_attempt_at, priority, id) WHERE status = 'pending';
  CREATE INDEX outbox_sending ON outbox (id) WHERE status = 'sending';

  CREATE TABLE slack_messages (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    target      TEXT    NOT NULL,
    channel_id  TEXT    NOT NULL,
    ts          TEXT    NOT NULL,
    PRIMARY KEY (incident_id, target)
  ) WITHOUT ROWID;
  `,
  typedTimeline,
  `
  -- Teams: the team an incident was routed to when it opened, and on-call overrides made at run time.
  ALTER TABLE incidents ADD COLUMN team TEXT;
  CREATE TABLE oncall_overrides (
    id         INTEGER PRIMARY KEY,
    team       TEXT,
    contact    TEXT    NOT NULL,
    from_ms    INTEGER NOT NULL,
    until_ms   INTEGER NOT NULL CHECK (until_ms > from_ms),
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX oncall_overrides_until ON oncall_overrides (until_ms);
  `,
  `
  -- Readiness writes here: a write that would fail (a full disk, a lock another process holds) fails
  -- the probe too, where a read would still answer.
  CREATE TABLE probe (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
  `,
  `
  -- Outbox leases, as on PostgreSQL: a page being sent is held by its dispatcher until lease_until,
  -- renewed while the send is in flight. Pages left sending before this version have run out.
  ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
  ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
  UPDATE outbox SET lease_until = 0 WHERE status = 'sending';
  DROP INDEX outbox_sending;
  CREATE INDEX outbox_lease ON outbox (lease_until, priority, id) WHERE status = 'sending';

  -- When each Slack channel may take its next message: the pace survives a restart.
  CREATE TABLE slack_pace (
    target    TEXT    PRIMARY KEY,
    next_free INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- People (issue 20): web sessions and personal API tokens. Only SHA-256 digests of the secrets.
  CREATE TABLE web_sessions (
    id_hash    TEXT    PRIMARY KEY,
    person     TEXT    NOT NULL,
    contact    TEXT,
    name       TEXT    NOT NULL,
    email      TEXT,
    groups     TEXT    NOT NULL,
    via        TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    user_agent TEXT
  ) WITHOUT ROWID;
  CREATE INDEX web_sessions_person ON web_sessions (person);
  CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

  CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    prefix       TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    person       TEXT    NOT NULL,
    contact      TEXT,
    name         TEXT    NOT NULL,
    email        TEXT,
    groups       TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
  );
  CREATE INDEX api_tokens_person ON api_tokens (person);
  `,
  `
  -- Claims take the most severe pages first across the whole queue, then the longest due: each
  -- severity's due pages are one range of this index, read in order, however deep the queue.
  DROP INDEX outbox_due;
  CREATE INDEX outbox_claim ON outbox (priority, next_attempt_at, id) WHERE status = 'pending';
  `,
  `
  -- Bounded reads of a long incident (docs/performance.md): a version that moves on every change,
  -- so that a live page polls one row; each checklist step's latest mark, one row a step, so that
  -- a tick neither reads nor grows what a page reads; and the timeline by kind, newest first, so
  -- that the notes, the pages sent and the latest review are read without the rest.
  ALTER TABLE incidents ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
  CREATE TABLE checklist_steps (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    step        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    note        TEXT,
    PRIMARY KEY (incident_id, step)
  ) WITHOUT ROWID;
  INSERT INTO checklist_steps (incident_id, step, state, actor, at, note)
    SELECT incident_id, step, state, actor, at, note FROM (
      SELECT incident_id, json_extract(data, '$.step') AS step, json_extract(data, '$.state') AS state, actor, at,
        json_extract(data, '$.note') AS note,
        row_number() OVER (PARTITION BY incident_id, json_extract(data, '$.step') ORDER BY at DESC, id DESC) AS latest
      FROM timeline WHERE kind = 'checklist')
    WHERE latest = 1;
  CREATE INDEX timeline_kind ON timeline (incident_id, kind, at, id);
  -- A window of the alerts in start order without sorting them all (PostgreSQL has had it from the start).
  CREATE INDEX alerts_window ON alerts (incident_id, starts_at, fingerprint);
  `,
  `
  -- On-call you can plan (issue 23). Overrides: whose shift one takes over, and void instead of
  -- deleted (a reload that removes its contact, a removal: the log keeps what was). The decision
  -- reads the overrides in force at an instant: from_ms and until_ms are both indexed. The on-call
  -- log: every change, with who. Requests another person answers (cover, swap). Calendar feeds: the
  -- SHA-256 of each secret token, never the token.
  ALTER TABLE oncall_overrides ADD COLUMN covers TEXT;
  ALTER TABLE oncall_overrides ADD COLUMN void_reason TEXT;
  CREATE INDEX oncall_overrides_from ON oncall_overrides (from_ms);
  CREATE TABLE oncall_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    team        TEXT,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    override_id INTEGER,
    data        TEXT    NOT NULL
  );
  CREATE INDEX oncall_log_team ON oncall_log ((COALESCE(team, '')), id);
  CREATE TABLE oncall_requests (
    id            INTEGER PRIMARY KEY,
    team          TEXT,
    kind          TEXT    NOT NULL CHECK (kind IN ('cover', 'swap')),
    contact       TEXT    NOT NULL,
    asked         TEXT    NOT NULL,
    from_ms       INTEGER NOT NULL,
    until_ms      INTEGER NOT NULL CHECK (until_ms > from_ms),
    swap_from_ms  INTEGER,
    swap_until_ms INTEGER,
    requested_by  TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'cancelled')),
    created_at    INTEGER NOT NULL,
    decided_at    INTEGER,
    decided_by    TEXT
  );
  CREATE INDEX oncall_requests_pending ON oncall_requests (asked) WHERE status = 'pending';
  CREATE TABLE calendar_feeds (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    scope      TEXT    NOT NULL CHECK (scope IN ('contact', 'team')),
    subject    TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE INDEX calendar_feeds_creator ON calendar_feeds (created_by);
  `,
  `
  -- Calls and texts the phone channels placed, by the provider's id: the inbound routes find the
  -- page, the person and the incidents of a status callback or a reply here, and a lookup after a
  -- lost answer tells a call of this page from another page's.
  CREATE TABLE phone_messages (
    sid          TEXT   PRIMARY KEY,
    channel      TEXT   NOT NULL,
    to_number    TEXT   NOT NULL,
    contact      TEXT   NOT NULL,
    page_id      BIGINT,
    incident_ids TEXT   NOT NULL,
    sent_at      BIGINT NOT NULL,
    status       TEXT   NOT NULL,
    updated_at   BIGINT NOT NULL
  );
  CREATE INDEX phone_messages_to ON phone_messages (channel, to_number, sent_at);

  -- What each person keeps of how they are reached: their numbers (verified), failures (a STOP
  -- reply), their own notification rules. One JSON document, versioned for compare-and-set.
  CREATE TABLE contact_settings (
    contact  TEXT   PRIMARY KEY,
    settings TEXT   NOT NULL,
    version  BIGINT NOT NULL
  );
  `,
  `
  -- Issue 22: who sent the notification that opened an incident (Alertmanager, Grafana, other), and
  -- the links and values a sender gives with an alert (Grafana's silence, dashboard and panel URLs).
  ALTER TABLE incidents ADD COLUMN source TEXT NOT NULL DEFAULT 'alertmanager' CHECK (source IN ('alertmanager', 'grafana', 'other'));
  ALTER TABLE alerts ADD COLUMN links TEXT NOT NULL DEFAULT '{}';
  `,
  `
  -- Issue 22: heartbeats (an Alertmanager's Watchdog, a cron job's POST) and their deadlines, shared
  -- by every replica; the scheduler opens a pipeline-silent incident for a deadline that passed.
  CREATE TABLE heartbeats (
    kind         TEXT    NOT NULL CHECK (kind IN ('watchdog', 'monitor')),
    name         TEXT    NOT NULL,
    last_beat_at INTEGER,
    deadline     INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
  );
  `,
  `
  -- Issue 22: silences made in Alertmanager from an incident page, so that the service can expire
  -- them when the incident resolves and tell the channel once before one ends.
  CREATE TABLE silences (
    silence_id         TEXT    PRIMARY KEY,
    incident_id        INTEGER NOT NULL REFERENCES incidents (id),
    created_by         TEXT    NOT NULL,
    ends_at            INTEGER NOT NULL,
    until_resolved     INTEGER NOT NULL,
    keep_after_resolve INTEGER NOT NULL,
    notified_at        INTEGER,
    expired_at         INTEGER
  );
  CREATE INDEX silences_incident ON silences (incident_id);
  CREATE INDEX silences_active ON silences (ends_at) WHERE expired_at IS NULL;
  `,
  `
  -- Issue 22: maintenance windows, silences in Alertmanager for times to come, as this service
  -- remembers them: what they are for, who made them, the silences underneath, and whether the
  -- status page shows them (with the words it shows).
  CREATE TABLE maintenance_windows (
    id           INTEGER PRIMARY KEY,
    title        TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    matchers     TEXT    NOT NULL,
    silence_ids  TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    public       INTEGER NOT NULL,
    public_text  TEXT    NOT NULL,
    cancelled_at INTEGER,
    cancelled_by TEXT
  );
  CREATE INDEX maintenance_windows_ends ON maintenance_windows (ends_at) WHERE cancelled_at IS NULL;
  `,
  `
  -- Issue 20: an OpenID Connect session keeps the provider's ID token, so that sign-out can end the
  -- provider's session too (RP-initiated logout's id_token_hint).
  ALTER TABLE web_sessions ADD COLUMN id_token TEXT;
  `,
  `
  -- Issue 23: notices (a handoff, a swap or cover request) go through the outbox with its leases,
  -- pacing and lookups, but belong to no incident: incident_id may be NULL. SQLite cannot drop a NOT
  -- NULL, so the table is rebuilt, ids and all, with its indexes.
  CREATE TABLE outbox_notices (
    id              INTEGER PRIMARY KEY,
    incident_id     INTEGER REFERENCES incidents (id),
    channel         TEXT    NOT NULL,
    target          TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    priority        INTEGER NOT NULL,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'folded')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    maybe_sent      INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    external_ref    TEXT,
    last_error      TEXT,
    claimed_by      TEXT,
    lease_until     INTEGER
  );
  INSERT INTO outbox_notices (id, incident_id, channel, target, event, severity, priority, payload, status, attempts, maybe_sent,
      next_attempt_at, created_at, sent_at, external_ref, last_error, claimed_by, lease_until)
    SELECT id, incident_id, channel, target, event, severity, priority, payload, status, attempts, maybe_sent,
      next_attempt_at, created_at, sent_at, external_ref, last_error, claimed_by, lease_until FROM outbox;
  DROP TABLE outbox;
  ALTER TABLE outbox_notices RENAME TO outbox;
  CREATE INDEX outbox_lease ON outbox (lease_until, priority, id) WHERE status = 'sending';
  CREATE INDEX outbox_claim ON outbox (priority, next_attempt_at, id) WHERE status = 'pending';

  -- Each handoff announced, once: the scheduler of one replica claims a rotation's shift start and
  -- queues its notices in the same transaction.
  CREATE TABLE oncall_handoffs (
    rotation    TEXT    NOT NULL,
    shift_start INTEGER NOT NULL,
    contact     TEXT    NOT NULL,
    claimed_at  INTEGER NOT NULL,
    PRIMARY KEY (rotation, shift_start)
  ) WITHOUT ROWID;
  `,
  `
  -- Issue 24: the status page. Public updates are timeline entries of kind status_update, read
  -- across incidents by /status through these partial indexes. Subscribers are personal data: the
  -- address, the components they chose, the secrets of their confirmation and unsubscribe links,
  -- and when confirmation e-mails were due and sent (the bound on e-mails to one address).
  CREATE INDEX timeline_status_at ON timeline (at) WHERE kind = 'status_update';
  CREATE INDEX timeline_status_incident ON timeline (incident_id, at) WHERE kind = 'status_update';
  CREATE TABLE status_subscribers (
    id                INTEGER PRIMARY KEY,
    email             TEXT    NOT NULL UNIQUE,
    components        TEXT,
    confirm_token     TEXT    UNIQUE,
    unsubscribe_token TEXT    NOT NULL UNIQUE,
    created_at        INTEGER NOT NULL,
    confirmed_at      INTEGER,
    confirm_due_at    INTEGER,
    confirm_sent_at   INTEGER,
    confirm_count     INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX status_subscribers_due ON status_subscribers (confirm_due_at) WHERE confirm_due_at IS NOT NULL;
  CREATE INDEX status_subscribers_unconfirmed ON status_subscribers (created_at) WHERE confirmed_at IS NULL;
  `,
  `
  -- Issue 22: the status page's components a maintenance window affects (ids of statusPage.components).
  ALTER TABLE maintenance_windows ADD COLUMN components TEXT NOT NULL DEFAULT '[]';
  `,
  `
  -- Issue 24: confirmation e-mails go through the outbox, as notices of the status-email channel
  -- queued in the transaction that asks for the subscription; those waiting for the scheduler's
  -- pass are queued now. Subscribe requests are counted per client for every replica (a hash of
  -- the client's address and when, kept for the window only).
  INSERT INTO outbox (incident_id, channel, target, event, severity, priority, payload, status, next_attempt_at, created_at)
    SELECT NULL, 'status-email', 'confirmations', 'notice', 'low', 3 /* low's rank */,
      json_object('mentions', json('[]'), 'recipients', json('[]'), 'cause', NULL,
        'notice', json_object('kind', 'status_confirmation', 'title', 'Confirm your subscription', 'lines', json('[]')),
        'subscriber', id),
      'pending', confirm_due_at, confirm_due_at
    FROM status_subscribers WHERE confirm_due_at IS NOT NULL AND confirmed_at IS NULL;
  UPDATE status_subscribers SET confirm_sent_at = confirm_due_at, confirm_count = confirm_count + 1
    WHERE confirm_due_at IS NOT NULL AND confirmed_at IS NULL;
  DROP INDEX status_subscribers_due;
  ALTER TABLE status_subscribers DROP COLUMN confirm_due_at;
  CREATE TABLE status_subscribe_attempts (
    client TEXT   NOT NULL,
    at     INTEGER NOT NULL
  );
  CREATE INDEX status_subscribe_attempts_client ON status_subscribe_attempts (client, at);
  CREATE INDEX status_subscribe_attempts_at ON status_subscribe_attempts (at);
  `,
];

const TIMELINE_SCHEMA = `
  CREATE TABLE timeline (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    data        TEXT    NOT NULL
  );
  CREATE INDEX timeline_incident ON timeline (incident_id, at, id);
  CREATE TRIGGER timeline_append_only_update BEFORE UPDATE ON timeline
    BEGIN SELECT RAISE(ABORT, 'timeline is append-only'); END;
  CREATE TRIGGER timeline_append_only_delete BEFORE DELETE ON timeline
    BEGIN SELECT RAISE(ABORT, 'timeline is append-only'); END;
`;

/**
 * Migration 3: the timeline becomes typed data (kind, actor, and the kind's fields as JSON) instead
 * of prose, and a waiting page carries the typed entry it tells about instead of a sentence. No row
 * of the append-only table is ever updated: the old table is renamed, copied entry by entry into a
 * new one (in batches, so a long history is never all in memory), and dropped. Like every released
 * migration this one must not change, and neither may store/legacy-timeline.ts, which it reads with.
 */
function typedTimeline(db: Database.Database): void {
  // The old table's index and triggers keep their names through the rename; the new table takes them.
  db.exec(`ALTER TABLE timeline RENAME TO timeline_prose`);
  db.exec(`DROP INDEX timeline_incident; DROP TRIGGER timeline_append_only_update; DROP TRIGGER timeline_append_only_delete`);
  db.exec(TIMELINE_SCHEMA);
  const batch = db.prepare<[number], { id: number; incident_id: number; at: number; kind: string; detail: string }>(
    `SELECT * FROM timeline_prose WHERE id > ? ORDER BY id LIMIT 5000`,
  );
  const insert = db.prepare(`INSERT INTO timeline (id, incident_id, at, kind, actor, data) VALUES (?, ?, ?, ?, ?, ?)`);
  for (let rows = batch.all(0); rows.length > 0; rows = batch.all(rows.at(-1)!.id)) {
    for (const row of rows) {
      const { at, kind, actor, ...fields } = fromLegacy(row.kind, row.detail, row.at);
      insert.run(row.id, row.incident_id, at, kind, actor, JSON.stringify(fields));
    }
  }
  db.exec(`DROP TABLE timeline_prose`);

  const waiting = db
    .prepare<[], { id: number; event: string; severity: Severity; payload: string; created_at: number }>(
      `SELECT id, event, severity, payload, created_at FROM outbox WHERE status IN ('pending', 'sending')`,
    )
    .all();
  const update = db.prepare(`UPDATE outbox SET payload = ? WHERE id = ?`);
  for (const row of waiting) {
    const { note, ...rest } = JSON.parse(row.payload) as { note?: string };
    update.run(JSON.stringify({ ...rest, cause: note ? fromLegacy(row.event, note, row.created_at, row.severity) : null }), row.id);
  }
}
