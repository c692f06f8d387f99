// The entity actor's tables. A new actor creates only what every entity needs (its log, whose row 0
// is the entity's head) and only when its first event arrives; the exception tables appear with the first
// delivery that needs a row. Schema rows are billed like any other row, and most entities see a
// handful of events, so set-up is a large share of what a new entity costs.
import type { Db } from "../shared/sql.ts";

/** The schema this code writes; recorded in the head's data (future migrations key on it). */
export const SCHEMA_VERSION = 5;

/** Created in the transaction that stores a new entity's first event: 2 billed rows. */
export const BASELINE: readonly string[] = [
  // The log, which is also the outbox: seq is assigned lastSeq + 1 in the ingest transaction.
  // Row 0 is not an event: it is the entity's head (head.ts), its columns reused for it.
  // `entity` (0.11) is set on a new entity's first event only: who the entity is, so its head
  // can wait for the first turn's write (log.ts, `seedHead`). Logs made before 0.11 lack it.
  `CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    data TEXT NOT NULL,
    fingerprint TEXT,
    source TEXT,
    entity TEXT
  )`,
];

/**
 * The log's id index is made in the ingest transaction that takes the log to this many events.
 * Until then the dedupe lookup scans at most this many rows (read rows cost a thousandth of a
 * written one), and each event's insert writes no index entry: most entities see a handful of
 * events, so most never pay for the index at all. Making it later costs what its entries would
 * have cost one by one.
 */
export const DEDUPE_INDEX_AFTER = 32;

/**
 * Dedupe forever: one event per id. Partial, so writing the head never touches the index. `IF NOT
 * EXISTS`: entities made before 0.10 got it with their first event.
 */
export const DEDUPE_INDEX = `CREATE UNIQUE INDEX IF NOT EXISTS events_by_id ON events (id) WHERE seq > 0`;

/** Created the first time a delivery needs a row of its own. */
export const EXCEPTION_TABLES: readonly string[] = [
  // Deliveries that are not simply "delivered, behind the handler's cursor": a head waiting to be
  // retried or a replayed dead letter (pending), a skip with its reason (a run of events when a
  // handler is not configured), a dead letter, or a success that needed more than one attempt.
  `CREATE TABLE deliveries (
    handler TEXT NOT NULL,
    seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    tries INTEGER NOT NULL,
    last_error TEXT,
    next_attempt_at INTEGER,
    completed_at INTEGER,
    dead_reported INTEGER,
    PRIMARY KEY (handler, seq)
  ) WITHOUT ROWID`,
  // next_attempt_at is set only while a row needs the alarm: pending (retry due) or dead and not
  // yet in the tenant's index. Everything else stays out of this index.
  `CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL`,
  // Failed attempts only: a success leaves no history beyond the cursor.
  `CREATE TABLE failures (
    handler TEXT NOT NULL,
    seq INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    next_delay_ms INTEGER,
    batch_size INTEGER NOT NULL
  )`,
];
