// The entity's log and state: what one ingest transaction does, and nothing else.
import { eventDefinition } from "../../src/events/registry.ts";
import { handlersFor } from "../../src/handlers/registry.ts";
import { stateData, storedData } from "../../src/payloads.ts";
import type { IncomingEvent, IngestResult, JsonObject } from "../../src/types.ts";
import type { Db } from "../shared/sql.ts";
import { emptyHead, mergeState, type EntityHead } from "./head.ts";
import { Retention } from "./retention.ts";
import { DEDUPE_INDEX, DEDUPE_INDEX_AFTER } from "./schema.ts";
import type { EntityStore } from "./store.ts";

/**
 * Stores events for this entity in ONE synchronous transaction: for each, dedupe by id (a known id
 * with another fingerprint is a conflict), append it to the log with the next seq, and merge its
 * data into the state. That is the whole of "marking the work due": every handler's cursor is
 * behind the new seq, so its deliveries are due. Writes per new event: its log row (with its id's
 * index entry once the log has one, schema.ts). The entity's head (row 0) is written only when the
 * call changed something its log rows do not say (a newly scheduled event, an event with data in
 * R2), or when LOGGED_TAIL_MAX events have gone by since it was: everything else a new row changes
 * in the head follows from the row alone, and the next load replays it (replayTail). A new
 * entity's first row also says who the entity is (its `entity` column), so even its head can wait
 * for the first turn's write (seedModel).
 */
export function appendEvents(store: EntityStore, tenant: string, events: readonly IncomingEvent[], now: number): IngestResult[] {
  return store.update(() => {
    const first = events[0]!.entity;
    const model = store.model ?? store.create(tenant, first, now);
    const before = model.lastSeq;
    const results = events.map((event) => appendOne(store, model, tenant, event, now));
    if (before < DEDUPE_INDEX_AFTER && model.lastSeq >= DEDUPE_INDEX_AFTER) store.db.schema([DEDUPE_INDEX]);
    return results;
  }, "unless-logged");
}

function appendOne(store: EntityStore, model: EntityHead, tenant: string, event: IncomingEvent, now: number): IngestResult {
  if (model.tenant !== tenant || model.entity.type !== event.entity.type || model.entity.id !== event.entity.id) {
    // Actor names are derived from these three values, so a mismatch is a routing bug.
    throw new Error("event routed to the wrong entity actor");
  }
  const known = store.db.sql<{ seq: number; fingerprint: string | null }>`SELECT seq, fingerprint FROM events WHERE id = ${event.id} AND seq > 0`[0];
  const scheduled = model.timers.find((t) => t.id === event.id);
  if (scheduled) {
    const conflict = scheduled.fingerprint !== undefined && event.fingerprint !== undefined && scheduled.fingerprint !== event.fingerprint;
    return { id: event.id, entity: event.entity, status: conflict ? "conflict" : "duplicate", seq: 0, deliverAt: scheduled.at };
  }
  // An id compacted away by retention is still known: a repeat is a duplicate, its seq no longer kept.
  if (!known && model.compacted && new Retention(store).forgot(event.id)) return { id: event.id, entity: event.entity, status: "duplicate", seq: 0 };
  if (known) {
    // Events stored before fingerprints existed (NULL) cannot be told apart: a repeat is a duplicate.
    const conflict = known.fingerprint !== null && event.fingerprint !== undefined && known.fingerprint !== event.fingerprint;
    return { id: event.id, entity: event.entity, status: conflict ? "conflict" : "duplicate", seq: Number(known.seq) };
  }
  const definition = eventDefinition(event.type);
  if (!definition) throw new Error(`unregistered event type reached the actor: ${event.type}`);
  if (event.deliverAt !== undefined && event.deliverAt > now) {
    // Kept in the head until it is due; the alarm appends it then, through this same function.
    // Large data waits by reference, its large values as references too (src/payloads.ts).
    store.headChanged();
    model.timers.push({
      id: event.id, type: event.type, at: event.deliverAt, data: stateData(event), occurredAt: event.occurredAt,
      ...(event.fingerprint ? { fingerprint: event.fingerprint } : {}), ...(event.payload ? { payload: event.payload } : {}),
    });
    return { id: event.id, entity: event.entity, status: "scheduled", seq: 0, deliverAt: event.deliverAt };
  }

  const seq = model.lastSeq + 1;
  // A scheduled event whose time came while it was on its way here is appended now, as its timer
  // would have been, and the log says when it took it: never a time before its deliverAt.
  const receivedAt = event.deliverAt !== undefined ? Math.max(event.receivedAt, now) : event.receivedAt;
  const row: SqlStorageValue[] = [seq, event.id, event.type, event.occurredAt, receivedAt, storedData(event), event.fingerprint ?? null, event.source ? JSON.stringify(event.source) : null];
  // Only a head not yet written needs the seed, and only on the log's first row. Logs made before
  // 0.11 have no `entity` column; they always have a head, so they never get here with a seed.
  const columns = ["seq", "id", "type", "occurred_at", "received_at", "data", "fingerprint", "source"];
  if (seq === 1 && !store.headStored) {
    const seed: EntitySeed = { tenant: model.tenant, type: model.entity.type, id: model.entity.id, createdAt: model.createdAt };
    columns.push("entity");
    row.push(JSON.stringify(seed));
  }
  store.db.all(`INSERT INTO events (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`, ...row);
  // State from data in R2 holds references sized from the whole data, which the row does not keep.
  if (event.payload) store.headChanged();
  applyLogged(model, seq, event.type, event.id, event.occurredAt, stateData(event), now);
  return { id: event.id, entity: event.entity, status: "accepted", seq };
}

/**
 * What appending the event at `seq` changes in the head: the same whether it is appended now or
 * replayed from its row at the next load, so a head written before the row and the row together
 * say what the head would have said had it been written after.
 */
function applyLogged(model: EntityHead, seq: number, type: string, id: string, occurredAt: number, data: JsonObject, at: number): void {
  model.lastSeq = seq;
  model.version++;
  model.updatedAt = at;
  mergeState(model.state, data, occurredAt, id);
  // An event appended from a timer (a follow-up, a scheduled event) takes its timer's place.
  if (model.timers.some((t) => t.id === id)) model.timers = model.timers.filter((t) => t.id !== id);
  // A handler this entity has not needed before starts at this event, not at the start of the
  // log: deploying a new handler does not replay history (a backfill would set it to 0).
  for (const handler of handlersFor(type)) model.progress[handler] ??= seq > 1 ? { through: seq - 1, marks: [], from: seq - 1 } : { through: 0, marks: [] };
}

/** Who a new entity is, on its first log row until its head is written (schema.ts). */
interface EntitySeed {
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
export function seedModel(db: Db): EntityHead | null {
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
export function replayTail(db: Db, model: EntityHead): void {
  const rows = db.sql<{ seq: number; id: string; type: string; occurred_at: number; received_at: number; data: string }>`
    SELECT seq, id, type, occurred_at, received_at, data FROM events WHERE seq > ${model.lastSeq} ORDER BY seq`;
  for (const row of rows) {
    // Rows of events with data in R2 never reach a tail (their ingest writes the head): this data is the event's own.
    applyLogged(model, Number(row.seq), row.type, row.id, Number(row.occurred_at), JSON.parse(row.data) as JsonObject, Number(row.received_at));
  }
}
