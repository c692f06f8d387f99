// The entity's log and state: what one ingest transaction does, and nothing else.
import { eventDefinition } from "../../src/events/registry.ts";
import { PAYLOAD_MARK, refOf, stateData, storedData } from "../../src/payloads.ts";
import type { IncomingEvent, IngestResult, JsonObject } from "../../src/types.ts";
import type { EntityHead } from "./head.ts";
import { applyLogged, type EntitySeed } from "./checkpoint.ts";
import { Retention } from "./retention.ts";
import { DEDUPE_INDEX, DEDUPE_INDEX_AFTER } from "./schema.ts";
import type { EntityStore } from "./store.ts";
import type { ScheduledEntry } from "./scheduled.ts";

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
 * for the first turn's write (seedHead).
 */
export function appendEvents(store: EntityStore, tenant: string, events: readonly IncomingEvent[], now: number, limits: AppendLimits = NO_LIMITS): IngestResult[] {
  return store.update(() => {
    const first = events[0]!.entity;
    const head = store.head ?? store.create(tenant, first, now);
    const before = head.lastSeq;
    const results = events.map((event) => withPayloadUse(store, head, event, appendOne(store, head, tenant, event, now, limits)));
    if (before < DEDUPE_INDEX_AFTER && head.lastSeq >= DEDUPE_INDEX_AFTER) store.db.schema([DEDUPE_INDEX]);
    return results;
  }, "unless-logged");
}

/** Bounds an append checks: scheduled events one entity may hold (MAX_SCHEDULED_PER_ENTITY). */
export interface AppendLimits {
  maxScheduled: number;
}
const NO_LIMITS: AppendLimits = { maxScheduled: Number.POSITIVE_INFINITY };

/**
 * For an event with data in R2 that is neither stored nor scheduled now: whether the entity refers
 * to that object anyway (a repeat of the event that put it there), so the router knows whether it
 * may delete it (src/payloads.ts).
 */
function withPayloadUse(store: EntityStore, head: EntityHead, event: IncomingEvent, result: IngestResult): IngestResult {
  if (!event.payload || result.status === "accepted" || result.status === "scheduled") return result;
  return { ...result, payloadInUse: payloadKeyInUse(store, head, event.payload.key, result.seq) };
}

/**
 * Whether the stored event of that id (`seq`, when it is still in the log), a scheduled one, a state
 * value or a pinned key refers to this R2 object. Keys name the content (src/payloads.ts), so only
 * a repeat of the same event can share one; a conflict's key is its own.
 */
function payloadKeyInUse(store: EntityStore, head: EntityHead, key: string, seq: number): boolean {
  if (seq > 0) return refOf(JSON.parse(store.db.all<{ data: string }>(`SELECT data FROM events WHERE seq = ?`, seq)[0]?.data ?? "null"))?.key === key;
  if (head.pinned?.includes(key)) return true;
  if (store.scheduled.list().some((e) => e.payloadKey === key)) return true;
  if (head.timers.some((t) => t.payload?.key === key)) return true;
  return Object.values(head.state).some(([value]) => refOf(value)?.key === key);
}

function appendOne(store: EntityStore, head: EntityHead, tenant: string, event: IncomingEvent, now: number, limits: AppendLimits): IngestResult {
  if (head.tenant !== tenant || head.entity.type !== event.entity.type || head.entity.id !== event.entity.id) {
    // Actor names are derived from these three values, so a mismatch is a routing bug.
    throw new Error("event routed to the wrong entity actor");
  }
  const known = store.db.sql<{ seq: number; fingerprint: string | null }>`SELECT seq, fingerprint FROM events WHERE id = ${event.id} AND seq > 0`[0];
  // Scheduled and waiting: a row of its own (scheduled.ts), or, written before 0.6, a timer in the head.
  const waiting = store.scheduled.get(event.id) ?? head.timers.find((t) => t.id === event.id);
  if (waiting) {
    const fingerprint = waiting.fingerprint ?? undefined;
    const conflict = fingerprint !== undefined && event.fingerprint !== undefined && fingerprint !== event.fingerprint;
    return { id: event.id, entity: event.entity, status: conflict ? "conflict" : "duplicate", seq: 0, deliverAt: waiting.at };
  }
  // An id compacted away by retention is still known: a repeat is a duplicate, its seq no longer kept.
  if (!known && head.compacted && new Retention(store).forgot(event.id)) return { id: event.id, entity: event.entity, status: "duplicate", seq: 0 };
  if (known) {
    // Events stored before fingerprints existed (NULL) cannot be told apart: a repeat is a duplicate.
    const conflict = known.fingerprint !== null && event.fingerprint !== undefined && known.fingerprint !== event.fingerprint;
    return { id: event.id, entity: event.entity, status: conflict ? "conflict" : "duplicate", seq: Number(known.seq) };
  }
  const definition = eventDefinition(event.type);
  if (!definition) throw new Error(`unregistered event type reached the actor: ${event.type}`);
  if (event.deliverAt !== undefined && event.deliverAt > now) {
    // Each waits as a row of its own until it is due (scheduled.ts); the alarm appends it then.
    // An entity holds a bounded number: those kept in the head before 0.6 count, and stay.
    const waitingNow = store.scheduled.count + head.timers.filter((t) => t.fingerprint !== undefined).length;
    if (waitingNow >= limits.maxScheduled) return { id: event.id, entity: event.entity, status: "limit", seq: 0 };
    store.scheduled.add({ ...event, deliverAt: event.deliverAt });
    return { id: event.id, entity: event.entity, status: "scheduled", seq: 0, deliverAt: event.deliverAt };
  }

  const seq = head.lastSeq + 1;
  // A scheduled event whose time came while it was on its way here is appended now, as its timer
  // would have been, and the log says when it took it: never a time before its deliverAt.
  const receivedAt = event.deliverAt !== undefined ? Math.max(event.receivedAt, now) : event.receivedAt;
  const row: SqlStorageValue[] = [seq, event.id, event.type, event.occurredAt, receivedAt, storedData(event), event.fingerprint ?? null, event.source ? JSON.stringify(event.source) : null];
  // Only a head not yet written needs the seed, and only on the log's first row. Logs made before
  // 0.11 have no `entity` column; they always have a head, so they never get here with a seed.
  const columns = ["seq", "id", "type", "occurred_at", "received_at", "data", "fingerprint", "source"];
  if (seq === 1 && !store.headStored) {
    const seed: EntitySeed = { tenant: head.tenant, type: head.entity.type, id: head.entity.id, createdAt: head.createdAt };
    columns.push("entity");
    row.push(JSON.stringify(seed));
  }
  store.db.all(`INSERT INTO events (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`, ...row);
  // State from data in R2 holds references sized from the whole data, which the row does not keep.
  if (event.payload) store.headChanged();
  applyLogged(head, seq, event.type, event.id, event.occurredAt, stateData(event), now);
  return { id: event.id, entity: event.entity, status: "accepted", seq };
}

/**
 * Appends a scheduled event whose time has come: its own row becomes the next event of the log
 * (one UPDATE, whatever its size), merged into the state like any other. Inside `appendEvents`'s
 * kind of update only (the caller's).
 */
export function appendScheduled(store: EntityStore, head: EntityHead, entry: ScheduledEntry, now: number): IngestResult {
  const due = store.scheduled.take(entry);
  const seq = head.lastSeq + 1;
  const data = due.payload ? JSON.stringify({ [PAYLOAD_MARK]: due.payload }) : JSON.stringify(due.data);
  if (seq === 1 && !store.headStored) {
    const seed: EntitySeed = { tenant: head.tenant, type: head.entity.type, id: head.entity.id, createdAt: head.createdAt };
    store.db.all(`UPDATE events SET seq = ?, received_at = ?, data = ?, entity = ? WHERE seq = ?`, seq, now, data, JSON.stringify(seed), due.seq);
  } else {
    store.db.all(`UPDATE events SET seq = ?, received_at = ?, data = ? WHERE seq = ?`, seq, now, data, due.seq);
  }
  // As for an event appended at once: state from data in R2 holds references the row does not keep.
  if (due.payload) store.headChanged();
  applyLogged(head, seq, due.type, due.id, due.occurredAt, due.data, now);
  return { id: due.id, entity: head.entity, status: "accepted", seq };
}
