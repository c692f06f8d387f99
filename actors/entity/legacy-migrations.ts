// Actors created before engine v2 (row-per-delivery outbox) kept their schema version in a
// `_migrations` table. These are their migrations, append-only as they were applied; the last one
// converts such an actor to the cursor engine in place. Actors created since have no
// `_migrations` table: they start at the v2 baseline (schema.ts).
import type { Db } from "../shared/sql.ts";
import { EXCEPTION_TABLES } from "./schema.ts";
import { convertOutbox } from "./legacy-convert.ts";

type Migration = { name: string; statements: readonly string[]; run?: (db: Db) => void };

const MIGRATIONS: ReadonlyArray<Migration> = [
  {
    name: "0001_entity_log_state_outbox",
    statements: [
      // One row: which entity this actor is, and its state's revision counter.
      `CREATE TABLE entity (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        tenant TEXT NOT NULL,
        type TEXT NOT NULL,
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      )`,
      // The entity's event log. seq is assigned max+1 inside the ingest transaction: gap-free.
      `CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        occurred_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        data TEXT NOT NULL
      )`,
      // Current state, one row per top-level field, with the (occurred_at, event_id) that wrote it.
      `CREATE TABLE state_fields (
        field TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        occurred_at INTEGER NOT NULL,
        event_id TEXT NOT NULL
      )`,
      // One row per (event, handler): the unit of delivery, retry and dead-lettering.
      `CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        event_seq INTEGER NOT NULL REFERENCES events (seq),
        handler TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt_at INTEGER,
        lease_until INTEGER,
        completed_at INTEGER,
        created_at INTEGER NOT NULL,
        UNIQUE (event_seq, handler)
      )`,
      `CREATE INDEX outbox_open_by_due ON outbox (next_attempt_at) WHERE status IN ('pending', 'in_flight')`,
      `CREATE INDEX outbox_open_by_handler ON outbox (handler, event_seq) WHERE status IN ('pending', 'in_flight')`,
    ],
  },
  {
    name: "0002_attempts_timers_dead_letters",
    statements: [
      // Every attempt of every delivery: what was tried, how long it took, how it ended.
      `CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        outbox_id INTEGER NOT NULL REFERENCES outbox (id),
        attempt INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        status_code INTEGER,
        error TEXT,
        next_delay_ms INTEGER
      )`,
      `CREATE INDEX attempts_by_outbox ON attempts (outbox_id, attempt)`,
      // dead_reported: 0 until the tenant's dead-letter index has the row, then 1.
      `ALTER TABLE outbox ADD COLUMN dead_at INTEGER`,
      `ALTER TABLE outbox ADD COLUMN dead_reported INTEGER`,
      `CREATE INDEX outbox_dead_unreported ON outbox (next_attempt_at) WHERE status = 'dead' AND dead_reported = 0`,
      // Internal events this entity emits later (lead.follow_up_due). The id is the event id to emit.
      `CREATE TABLE timers (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        due_at INTEGER NOT NULL,
        data TEXT NOT NULL,
        fired_at INTEGER
      )`,
      `CREATE INDEX timers_due ON timers (due_at) WHERE fired_at IS NULL`,
    ],
  },
  {
    name: "0003_tries_and_batch_size",
    statements: [
      // How many deliveries the attempt carried: more than 1 when a batching handler took an
      // entity's backlog in one call.
      `ALTER TABLE attempts ADD COLUMN batch_size INTEGER NOT NULL DEFAULT 1`,
      // Attempts that ran and reported an outcome since the last replay: the retry budget.
      // outbox.attempts stays the lease token, bumped by every send, reported or not.
      `ALTER TABLE outbox ADD COLUMN tries INTEGER NOT NULL DEFAULT 0`,
      `UPDATE outbox SET tries = attempts`,
    ],
  },
  {
    name: "0004_fingerprints_sources_claims",
    statements: [
      // Digest of the envelope as sent: a known id with another fingerprint is a conflict, not a
      // duplicate. NULL for events stored before this migration and for internal events.
      `ALTER TABLE events ADD COLUMN fingerprint TEXT`,
      // JSON {name, deliveryId?} for events from a signed source; NULL otherwise.
      `ALTER TABLE events ADD COLUMN source TEXT`,
      // The queued attempt a consumer has claimed: a second claim of the same attempt is refused,
      // so a re-delivered queue message can never run the call a second time.
      `ALTER TABLE outbox ADD COLUMN claimed_attempt INTEGER`,
    ],
  },
  {
    name: "0005_cursor_engine",
    statements: EXCEPTION_TABLES,
    // The entity's head moves to row 0 of the log. The old tables (entity, outbox, attempts,
    // state_fields, timers) are read, never dropped: dead letters indexed under old outbox ids
    // still resolve through `outbox`.
    run: convertOutbox,
  },
];

/**
 * Brings a pre-v2 actor's database up to date and converts it. Idempotent: applied migrations are
 * recorded and skipped. All pending ones run in one transaction, so a crash never half-applies one.
 * `upTo` stops early: tests build a pre-v2 database with it.
 */
export function migrateLegacy(storage: DurableObjectStorage, db: Db, upTo = MIGRATIONS.length): void {
  const sql = db.sql;
  sql`CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`;
  const found = Number(sql<{ v: number | null }>`SELECT MAX(id) AS v FROM _migrations`[0]?.v ?? 0);
  if (found >= upTo) return;
  storage.transactionSync(() => {
    for (let index = found; index < upTo; index++) {
      const migration = MIGRATIONS[index]!;
      // DDL is fixed text from this file, never user input, so it runs unparameterised.
      db.schema(migration.statements);
      migration.run?.(db);
      sql`INSERT INTO _migrations (id, name, applied_at) VALUES (${index + 1}, ${migration.name}, ${Date.now()})`;
    }
  });
}
