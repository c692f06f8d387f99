// The entity's durable core: the schema, the head in memory and the one way to change it.
// Everything that changes the head goes through `update`, which runs in ONE synchronous
// transaction and writes the row once at its end.
import type { EntityRef } from "../../src/types.ts";
import { deleteEverything } from "../shared/alarm.ts";
import type { Db } from "../shared/sql.ts";
import { migrateLegacy } from "./legacy-migrations.ts";
import { emptyHead, insertHead, readHead, updateHead, type EntityHead } from "./head.ts";
import { replayTail, seedHead } from "./checkpoint.ts";
import { BASELINE, EXCEPTION_TABLES } from "./schema.ts";
import { ScheduledEvents } from "./scheduled.ts";

/**
 * Events a head may lag behind the log's end: past this an ingest writes the head, so a load never
 * replays more (an entity whose cursors stand still, paused or failing, would otherwise grow it).
 */
export const LOGGED_TAIL_MAX = 32;

export class EntityStore {
  /** The entity's head; null until the first event is stored. */
  private current: EntityHead | null;
  private inserted = false;
  /** Changes made outside `update` (cursor moves, effects of deliveries) not yet written. */
  private dirty = false;
  private depth = 0;
  /** When the oldest change not yet written was made (meaningful while dirty). */
  private dirtyAt = 0;
  /** The log's end as the head row says it: later events are in their rows only (log.ts). */
  private writtenSeq = 0;
  /** Within an `update` that may skip the head's write: whether it changed what no log row says. */
  private unlogged = false;
  /** Set once the entity's storage is deleted: this instance writes nothing more. */
  private erased = false;
  /** The entity's tombstone, once it was erased on request: it takes no events, ever. */
  private tomb: Tombstone | null;
  /** Clients' events scheduled for later, a row each (scheduled.ts). */
  readonly scheduled: ScheduledEvents;

  constructor(
    private readonly storage: DurableObjectStorage,
    readonly db: Db,
  ) {
    if (db.tables.has("_migrations")) {
      migrateLegacy(storage, db);
      db.tables.forget(false);
    }
    this.current = db.tables.has("events") ? readHead(db) : null;
    this.inserted = this.current !== null;
    if (!this.current && db.tables.has("events")) this.current = seedHead(db);
    if (this.current) {
      this.writtenSeq = this.current.lastSeq;
      replayTail(db, this.current);
    }
    this.tomb = db.tables.has("tombstone") ? readTombstone(db) : null;
    this.scheduled = new ScheduledEvents(db);
  }

  /** The tombstone of an entity erased on request, or null. */
  get tombstone(): Tombstone | null {
    return this.tomb;
  }

  /** The entity's head (head.ts): identity, state, cursors, timers; null until its first event. */
  get head(): EntityHead | null {
    return this.current;
  }

  /** The head, for code that runs only once an event is stored. */
  get existingHead(): EntityHead {
    if (!this.current) throw new Error("entity actor has no entity yet");
    return this.current;
  }

  /** Whether the exception tables exist (no table, no exceptional delivery yet). */
  get hasExceptions(): boolean {
    return this.db.tables.has("deliveries");
  }

  /**
   * Runs `change` in one synchronous transaction and then writes the head, once. If anything
   * throws, the transaction rolls back and the in-memory row is restored, so memory never holds
   * what storage does not. Nested calls join the outer transaction (and its `writeRow`).
   *
   * `writeRow`: false for changes to exception rows alone (a replay, a dead letter reported);
   * "unless-logged" for appends, whose rows say what they change in the head unless the change
   * calls `headChanged` (log.ts).
   */
  update<T>(change: () => T, writeRow: boolean | "unless-logged" = true): T {
    if (this.erased) throw new Error("entity erased");
    if (this.depth > 0) {
      if (writeRow === true) this.unlogged = true;
      return change();
    }
    const before = this.current === null ? null : structuredClone(this.current);
    const inserted = this.inserted;
    const writtenSeq = this.writtenSeq;
    const tables = this.db.tables.snapshot();
    const scheduled = this.scheduled.snapshot();
    this.depth++;
    this.unlogged = writeRow === true;
    try {
      return this.storage.transactionSync(() => {
        const result = change();
        if (writeRow === true || (writeRow === "unless-logged" && this.headDue())) this.write();
        return result;
      });
    } catch (err) {
      this.current = before;
      this.inserted = inserted;
      this.writtenSeq = writtenSeq;
      this.db.tables.restore(tables);
      this.scheduled.restore(scheduled);
      throw err;
    } finally {
      this.depth--;
    }
  }

  /** Within an "unless-logged" update: the change touched the head in a way no log row records. */
  headChanged(): void {
    this.unlogged = true;
  }

  /** Whether the head has a row yet: until it does, the log's first row carries the seed (log.ts). */
  get headStored(): boolean {
    return this.inserted;
  }

  /** Whether an append must write the head (see `update`). */
  private headDue(): boolean {
    if (this.unlogged || this.current === null) return true;
    // A new entity with no event appended has no seeded row to be read back from.
    if (!this.inserted && this.current.lastSeq === 0) return true;
    return this.current.lastSeq - this.writtenSeq >= LOGGED_TAIL_MAX;
  }

  /** Creates the entity (and, for a new actor, its tables). Call inside `update` only. */
  create(tenant: string, entity: EntityRef, now: number): EntityHead {
    this.db.tables.make("events", BASELINE);
    this.current = emptyHead(tenant, entity, now);
    return this.current;
  }

  /** Creates the exception tables if they are missing. Call inside `update` only. */
  ensureExceptionTables(): void {
    this.db.tables.make("deliveries", EXCEPTION_TABLES);
  }

  /**
   * Records that the in-memory row changed without a write: the next write of any kind carries the
   * change. Cursor moves ride on the next write this way, because a re-run after a crash is
   * allowed (same idempotency key) and a row write per delivery is what this engine exists to avoid.
   */
  touch(): void {
    if (!this.dirty) this.dirtyAt = Date.now();
    this.dirty = true;
  }

  get isDirty(): boolean {
    return this.dirty;
  }

  /** Writes pending in-memory changes, if any. */
  flush(): void {
    if (this.dirty && this.current) this.update(() => undefined);
  }

  /**
   * Deletes every row and the alarm, and forgets the entity in memory. Anything still running in
   * this instance (an alarm turn awaiting a call) then fails at its next write instead of writing
   * the entity back.
   */
  async erase(): Promise<void> {
    this.erased = true;
    this.current = null;
    this.dirty = false;
    // Its head row is gone with the rest: a revived entity inserts a new one.
    this.inserted = false;
    this.writtenSeq = 0;
    this.scheduled.clear();
    this.db.tables.forget(true);
    await deleteEverything(this.storage, "entityKvWrites");
  }

  /**
   * Erases the entity on request: deletes every row and the alarm, then leaves a tombstone (when,
   * and what is left to clean up elsewhere), so the entity answers `gone` and takes no event again,
   * after an eviction too. Returns the tombstone.
   */
  async eraseToTombstone(cleanup: TombstoneCleanup, now: number): Promise<Tombstone> {
    await this.erase();
    const tomb: Tombstone = { erasedAt: now, cleanup };
    this.storage.transactionSync(() => {
      this.db.tables.make("tombstone", [TOMBSTONE]);
      this.db.sql`INSERT INTO tombstone (singleton, erased_at, cleanup) VALUES (1, ${now}, ${JSON.stringify(cleanup)})`;
    });
    this.tomb = tomb;
    return tomb;
  }

  /** The cleanup elsewhere is done: the tombstone only answers `gone` from now on. */
  cleanedUp(): void {
    if (!this.tomb) return;
    this.db.sql`UPDATE tombstone SET cleanup = NULL`;
    this.tomb = { erasedAt: this.tomb.erasedAt, cleanup: null };
  }

  /**
   * An entity erased on request taken back into use, because its tenant allows re-creation: the
   * tombstone goes (once the cleanup elsewhere is done) and the next event starts a new log.
   */
  revive(): boolean {
    if (!this.tomb || this.tomb.cleanup) return false;
    this.storage.transactionSync(() => this.db.sql`DELETE FROM tombstone`);
    this.tomb = null;
    this.erased = false;
    return true;
  }

  /** The entity's SQLite database size in bytes: what storage is billed on. */
  get bytes(): number {
    return this.storage.sql.databaseSize;
  }

  /**
   * Milliseconds the oldest unwritten change has waited; 0 when there is none. (Not the time since
   * the head's last write: an ingest no longer writes it, so that would say nothing of what a
   * crash would re-run.)
   */
  unwrittenFor(): number {
    return this.dirty ? Date.now() - this.dirtyAt : 0;
  }

  private write(): void {
    if (!this.current) return;
    if (this.inserted) updateHead(this.db, this.current);
    else insertHead(this.db, this.current);
    this.inserted = true;
    this.writtenSeq = this.current.lastSeq;
    this.dirty = false;
  }
}

/** What an erased entity still has to remove outside its own storage: its D1 mirror tables' rows and the tenant's index entries. */
export interface TombstoneCleanup {
  tenant: string;
  space: string;
  entity: EntityRef;
  /** The D1 mirror tables its events wrote to, as tombstones before 0.6 named them (read models now erase by the entity's type). */
  mirrorTables: string[];
}

export interface Tombstone {
  erasedAt: number;
  /** Null once done. */
  cleanup: TombstoneCleanup | null;
}

const TOMBSTONE = `CREATE TABLE IF NOT EXISTS tombstone (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), erased_at INTEGER NOT NULL, cleanup TEXT)`;

function readTombstone(db: Db): Tombstone | null {
  const row = db.all<{ erased_at: number; cleanup: string | null }>(`SELECT erased_at, cleanup FROM tombstone`)[0];
  // Written only by eraseToTombstone from a TombstoneCleanup.
  return row ? { erasedAt: Number(row.erased_at), cleanup: row.cleanup === null ? null : (JSON.parse(row.cleanup) as TombstoneCleanup) } : null;
}
