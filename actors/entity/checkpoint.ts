// The head as a checkpoint of the log: what appending an event changes in the head, the same
// whether it happens at ingest (log.ts) or when a load replays the rows written after the head
// (store.ts), and who a new entity is before its head has a row.
import { handlersFor } from "../../src/handlers/registry.ts";
import type { JsonObject } from "../../src/types.ts";
import type { Db } from "../shared/sql.ts";
import { emptyHead, mergeState, type EntityHead } from "./head.ts";

/**
 * What appending the event at `seq` changes in the head: the same whether it is appended now or
 * replayed from its row at the next load, so a head written before the row and the row together
 * say what the head would have said had it been written after.
 */
export function applyLogged(head: EntityHead, seq: number, type: string, id: string, occurredAt: number, data: JsonObject, at: number): void {
  head.lastSeq = seq;
  head.version++;
  head.updatedAt = at;
  mergeState(head.state, data, occurredAt, id);
  // An event appended from a timer (a follow-up, a scheduled event) takes its timer's place.
  if (head.timers.some((t) => t.id === id)) head.timers = head.timers.filter((t) => t.id !== id);
  // A handler this entity has not needed before starts at this event, not at the start of the
  // log: deploying a new handler does not replay history (a backfill would set it to 0).
  for (const handler of handlersFor(type)) head.progress[handler] ??= seq > 1 ? { through: seq - 1, marks: [], from: seq - 1 } : { through: 0, marks: [] };
}

/** Who a new entity is, on its first log row until its head is written (schema.ts). */
export interface EntitySeed {
  tenant: string;
  type: string;
  id: string;
  createdAt: number;
}

/**
 * The head of an entity whose first events are stored but whose head row is not written yet: as
 * `create` made it, from the seed on its first row. Null when there is no such row (an entity
 * without events, or a log made before 0.11, which has no `entity` column and always a head).
 */
export function seedHead(db: Db): EntityHead | null {
  let rows: Array<{ entity: string | null }>;
  try {
    rows = db.sql<{ entity: string | null }>`SELECT entity FROM events WHERE seq = 1`;
  } catch {
    return null;
  }
  const text = rows[0]?.entity;
  if (!text) return null;
  // Written only by appendOne from an EntitySeed.
  const seed = JSON.parse(text) as EntitySeed;
  return emptyHead(seed.tenant, { type: seed.type, id: seed.id }, seed.createdAt);
}

/**
 * Brings a head read from row 0 (or seeded) up to the log's end: the events appended since it was last
 * written, at most LOGGED_TAIL_MAX (appendEvents writes the head before more go by).
 */
export function replayTail(db: Db, head: EntityHead): void {
  const rows = db.sql<{ seq: number; id: string; type: string; occurred_at: number; received_at: number; data: string }>`
    SELECT seq, id, type, occurred_at, received_at, data FROM events WHERE seq > ${head.lastSeq} ORDER BY seq`;
  for (const row of rows) {
    // Rows of events with data in R2 never reach a tail (their ingest writes the head): this data is the event's own.
    applyLogged(head, Number(row.seq), row.type, row.id, Number(row.occurred_at), JSON.parse(row.data) as JsonObject, Number(row.received_at));
  }
}
