// A client's scheduled events (`deliverAt` ahead), each a row of the log with a negative seq until
// its time comes, when that same row becomes the next event (one UPDATE: seq, received_at, data).
// Until 0.5 they waited inline in the head, which every write of the head rewrote whole and which
// one row can hold only so much of (2 MB deployed): 80 events of 32 KiB broke it. A row each keeps
// the head small whatever an entity has scheduled; the log's readers all ask for `seq > 0` (or a
// seq they were given), so none of them sees these rows. The ids, times and types are kept in
// memory (read once at load: `seq < 0` is a range of the primary key, so an entity with none reads
// no row), which is what dedupe, the alarm and the listing need.
import type { PayloadRef } from "../../src/payload-ref.ts";
import { stateData } from "../../src/payloads.ts";
import type { IncomingEvent, JsonObject } from "../../src/types.ts";
import type { Db } from "../shared/sql.ts";

/** A scheduled event as memory keeps it. */
export interface ScheduledEntry {
  /** Its row's (negative) seq. */
  seq: number;
  id: string;
  type: string;
  at: number;
  fingerprint: string | null;
  /** Its data's object in R2, if it has one (deleted when the event is cancelled). */
  payloadKey: string | null;
}

/** What a scheduled row's `data` holds: the data as the state takes it (large values by reference), and its R2 object if any. */
interface ScheduledData {
  data: JsonObject;
  payload?: PayloadRef;
}

/** A scheduled event taken from its row to be appended. */
export interface DueScheduled extends ScheduledEntry {
  occurredAt: number;
  data: JsonObject;
  payload?: PayloadRef;
  source: string | null;
}

export class ScheduledEvents {
  private byId = new Map<string, ScheduledEntry>();
  /** The lowest seq in use (0 when none): a new row takes the one below. */
  private lowest = 0;

  constructor(private readonly db: Db) {
    this.reload();
  }

  /** Reads the rows' summaries (at load, and after a rollback or an erasure). */
  reload(): void {
    this.byId = new Map();
    this.lowest = 0;
    if (!this.db.tables.has("events")) return;
    const rows = this.db.all<{ seq: number; id: string; type: string; received_at: number; fingerprint: string | null; key: string | null }>(
      `SELECT seq, id, type, received_at, fingerprint, json_extract(data, '$.payload.key') AS key FROM events WHERE seq < 0`,
    );
    for (const r of rows) {
      const seq = Number(r.seq);
      this.byId.set(r.id, { seq, id: r.id, type: r.type, at: Number(r.received_at), fingerprint: r.fingerprint, payloadKey: r.key });
      this.lowest = Math.min(this.lowest, seq);
    }
  }

  get count(): number {
    return this.byId.size;
  }

  get(id: string): ScheduledEntry | undefined {
    return this.byId.get(id);
  }

  list(): ScheduledEntry[] {
    return [...this.byId.values()];
  }

  /** When the soonest is due, or null when none waits. */
  soonest(): number | null {
    let at: number | null = null;
    for (const e of this.byId.values()) if (at === null || e.at < at) at = e.at;
    return at;
  }

  /** Those due by `now`, soonest first, at most `limit`. */
  due(now: number, limit: number): ScheduledEntry[] {
    return this.list()
      .filter((e) => e.at <= now)
      .sort((a, b) => a.at - b.at || b.seq - a.seq)
      .slice(0, limit);
  }

  /** Stores a scheduled event as a row of its own. Inside the ingest transaction only. */
  add(event: IncomingEvent & { deliverAt: number }): void {
    const seq = this.lowest - 1;
    const stored: ScheduledData = { data: stateData(event), ...(event.payload ? { payload: event.payload } : {}) };
    this.db.all(
      `INSERT INTO events (seq, id, type, occurred_at, received_at, data, fingerprint, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      seq,
      event.id,
      event.type,
      event.occurredAt,
      event.deliverAt,
      JSON.stringify(stored),
      event.fingerprint ?? null,
      event.source ? JSON.stringify(event.source) : null,
    );
    this.lowest = seq;
    this.byId.set(event.id, { seq, id: event.id, type: event.type, at: event.deliverAt, fingerprint: event.fingerprint ?? null, payloadKey: event.payload?.key ?? null });
  }

  /** Reads one due event whole and forgets it here; the caller turns its row into the next event. Inside a transaction only. */
  take(entry: ScheduledEntry): DueScheduled {
    const row = this.db.all<{ occurred_at: number; data: string; source: string | null }>(`SELECT occurred_at, data, source FROM events WHERE seq = ?`, entry.seq)[0];
    if (!row) throw new Error(`scheduled event ${entry.id} has no row`);
    this.byId.delete(entry.id);
    // Written only by add from a ScheduledData.
    const stored = JSON.parse(row.data) as ScheduledData;
    return { ...entry, occurredAt: Number(row.occurred_at), data: stored.data, ...(stored.payload ? { payload: stored.payload } : {}), source: row.source };
  }

  /** Cancels one: its row goes. Its R2 object's key (for the caller to delete once committed), or null. Inside a transaction only. */
  remove(id: string): { payloadKey: string | null } | null {
    const entry = this.byId.get(id);
    if (!entry) return null;
    this.db.all(`DELETE FROM events WHERE seq = ?`, entry.seq);
    this.byId.delete(id);
    return { payloadKey: entry.payloadKey };
  }

  /** What memory holds, to put back if a transaction rolls back. */
  snapshot(): { byId: Map<string, ScheduledEntry>; lowest: number } {
    return { byId: new Map(this.byId), lowest: this.lowest };
  }

  restore(saved: { byId: Map<string, ScheduledEntry>; lowest: number }): void {
    this.byId = saved.byId;
    this.lowest = saved.lowest;
  }

  /** The entity's storage was deleted. */
  clear(): void {
    this.byId = new Map();
    this.lowest = 0;
  }
}
