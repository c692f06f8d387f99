import type { PayloadRef } from "../../src/payloads.ts";
// The entity's head, as the actor holds it in memory between writes: identity, merged state, each
// handler's cursor, timers. It is row 0 of the log, read once when the actor starts and written
// whole by every change: one billed row, however many state fields, cursors or timers the change
// touched. Keeping it in the log's own table spares a new entity a second table (each CREATE
// TABLE is two billed rows).
import type { EntityRef, JsonObject, JsonValue } from "../../src/types.ts";
import type { Db, Row } from "../shared/sql.ts";
import { SCHEMA_VERSION } from "./schema.ts";

/** A state field: its value and the (occurredAt, eventId) of the event that wrote it. */
export type StateEntry = [value: JsonValue, occurredAt: number, eventId: string];

/**
 * A queued delivery out for one handler: sent under `token` in one queue message, for these seqs.
 * `exception` says the seq is a pending exception row (a retry or a replay), not the cursor's range.
 */
export interface Lease {
  token: string;
  seqs: number[];
  exception: boolean;
  until: number;
  claimed: boolean;
  /** Sends before this one whose lease lapsed with no report. */
  lapses: number;
}

/** How far one handler is through the log. */
export interface Progress {
  /** Every event with seq ≤ through is settled for this handler (or never concerned it). */
  through: number;
  /** [through, at] when the cursor passed that seq: what the delivery view reports as completedAt. */
  marks: Array<[seq: number, at: number]>;
  lease?: Lease;
  /**
   * Runs of seqs the cursor passed as skipped because the handler was not configured, with the
   * reason: kept in the head (which the turn writes anyway), not as rows, so an unconfigured
   * handler costs no row per event. A run the cursor passes on from, with the same reason, grows.
   */
  skips?: Array<[from: number, through: number, reason: string]>;
  /**
   * For a customer endpoint's cursor: it takes events after `from` (those received since the
   * endpoint was created) of these types (null: all), as of the last turn. For the delivery views.
   */
  endpoint?: { from: number; types: string[] | null };
  /**
   * For a handler registered after this entity's first event (a new deployment added it): it takes
   * events after `from` only; the earlier ones were never its, and the views do not list it for them.
   */
  from?: number;
}

/** An event the entity appends itself at `at`: an internal one (the follow-up), or a client's scheduled event. */
export interface Timer {
  id: string;
  type: string;
  at: number;
  data: JsonObject;
  /** A client's scheduled event: its fingerprint (for the duplicate check) and its occurredAt. */
  fingerprint?: string;
  occurredAt?: number;
  /** Its data is in R2 (src/payloads.ts); `data` holds its values with the large ones by reference. */
  payload?: PayloadRef;
}

export interface EntityHead {
  tenant: string;
  entity: EntityRef;
  version: number;
  createdAt: number;
  updatedAt: number;
  lastSeq: number;
  state: Record<string, StateEntry>;
  progress: Record<string, Progress>;
  timers: Timer[];
  /** Whether the tenant's actor has this entity in its list (registered from the first alarm). */
  listed?: boolean;
  /** Handlers whose deliveries this entity holds (`*`: all): POST /v1/entities/{type}/{id}/pause. */
  paused?: string[];
  /** Events compacted away by retention (retention.ts): how many, and the highest seq among them. */
  compacted?: { events: number; through: number };
  /**
   * R2 keys of compacted events whose objects a state value still points at (src/payloads.ts):
   * deleted once no value does.
   */
  pinned?: string[];
}

/** A new entity's head: no event yet, every handler's cursor still to come. */
export function emptyHead(tenant: string, entity: EntityRef, createdAt: number): EntityHead {
  return { tenant, entity, version: 0, createdAt, updatedAt: createdAt, lastSeq: 0, state: {}, progress: {}, timers: [] };
}

/** In `EntityHead.paused`: every handler. */
export const ALL_HANDLERS = "*";

/** Whether the entity holds this handler's deliveries. */
export function isPaused(head: Pick<EntityHead, "paused">, handler: string): boolean {
  return head.paused !== undefined && (head.paused.includes(ALL_HANDLERS) || head.paused.includes(handler));
}

/** The log's row 0 holds the entity's head; no client or internal event id can take this one. */
const HEAD_ID = "edgeflow:entity";

interface HeadRow extends Row {
  type: string;
  occurred_at: number;
  received_at: number;
  data: string;
}

/** What row 0's data holds: the head, less what the row's own columns say (type, created, updated). */
type HeadData = Omit<EntityHead, "entity" | "createdAt" | "updatedAt"> & { schema: number; id: string };

/** Marks kept per handler: enough to date recent deliveries; older ones get the oldest mark's time. */
const MAX_MARKS = 16;

/** The entity's head, or null for an actor that has never stored an event. */
export function readHead(db: Db): EntityHead | null {
  const row = db.all<HeadRow>(`SELECT type, occurred_at, received_at, data FROM events WHERE seq = 0`)[0];
  if (!row) return null;
  // Written only by headData from these same types.
  const data = JSON.parse(row.data) as HeadData;
  return {
    tenant: data.tenant,
    entity: { type: row.type, id: data.id },
    version: data.version,
    createdAt: Number(row.occurred_at),
    updatedAt: Number(row.received_at),
    lastSeq: data.lastSeq,
    state: data.state,
    progress: data.progress,
    timers: data.timers,
    ...(data.listed ? { listed: true } : {}),
    ...(data.paused?.length ? { paused: data.paused } : {}),
    ...(data.compacted ? { compacted: data.compacted } : {}),
    ...(data.pinned?.length ? { pinned: data.pinned } : {}),
  };
}

function headData(m: EntityHead): string {
  const data: HeadData = { schema: SCHEMA_VERSION, tenant: m.tenant, id: m.entity.id, version: m.version, lastSeq: m.lastSeq, state: m.state, progress: m.progress, timers: m.timers, ...(m.listed ? { listed: true } : {}), ...(m.paused?.length ? { paused: m.paused } : {}), ...(m.compacted ? { compacted: m.compacted } : {}), ...(m.pinned?.length ? { pinned: m.pinned } : {}) };
  return JSON.stringify(data);
}

export function insertHead(db: Db, m: EntityHead): void {
  db.sql`INSERT INTO events (seq, id, type, occurred_at, received_at, data) VALUES (0, ${HEAD_ID}, ${m.entity.type}, ${m.createdAt}, ${m.updatedAt}, ${headData(m)})`;
}

export function updateHead(db: Db, m: EntityHead): void {
  db.sql`UPDATE events SET received_at = ${m.updatedAt}, data = ${headData(m)} WHERE seq = 0`;
}

/**
 * Per-field last-writer-wins: a field takes the new value only if (occurredAt, eventId) is greater
 * than what wrote it last, so any arrival order of the same events gives the same state.
 */
export function mergeState(state: Record<string, StateEntry>, data: JsonObject, occurredAt: number, eventId: string): void {
  for (const [field, value] of Object.entries(data)) {
    const current = Object.hasOwn(state, field) ? state[field] : undefined;
    if (current && (current[1] > occurredAt || (current[1] === occurredAt && current[2] >= eventId))) continue;
    // defineProperty, not assignment: a field named __proto__ must stay a plain own property.
    Object.defineProperty(state, field, { value: [value, occurredAt, eventId], enumerable: true, writable: true, configurable: true });
  }
}

/** The merged state as a plain object of values. */
export function stateValues(state: Record<string, StateEntry>): JsonObject {
  const values: JsonObject = {};
  for (const field of Object.keys(state).sort()) {
    Object.defineProperty(values, field, { value: state[field]![0], enumerable: true, writable: true, configurable: true });
  }
  return values;
}

/** The handlers an event at `seq` of this type has deliveries for: its type's, and the endpoints' that take it. */
export function handlersOf(head: EntityHead, seq: number, type: string, own: readonly string[]): string[] {
  // A handler takes an event only if it had a cursor here when the event was appended.
  const handlers = own.filter((name) => {
    const p = head.progress[name];
    return p !== undefined && seq > (p.from ?? 0);
  });
  for (const [name, p] of Object.entries(head.progress)) {
    if (p.endpoint && seq > p.endpoint.from && (p.endpoint.types === null || p.endpoint.types.includes(type))) handlers.push(name);
  }
  return handlers;
}

/** Moves a handler's cursor forward to `seq` (never back), dating the move. */
export function advance(progress: Progress, seq: number, now: number): void {
  if (seq <= progress.through) return;
  progress.through = seq;
  const last = progress.marks[progress.marks.length - 1];
  // Moves within a second share a mark, so a burst does not flush the history of older ones.
  if (last && now - last[1] < 1000) last[0] = seq;
  else progress.marks.push([seq, now]);
  if (progress.marks.length > MAX_MARKS) progress.marks.shift();
}

/** Skip runs kept per handler in the head; past this the oldest is kept as a row instead. */
const MAX_SKIP_RUNS = 16;

/**
 * Records that the cursor passes from its position to `through` skipping seqs from `from` on, for
 * `reason`: the last run grows when the cursor has not moved since it and the reason is the same.
 * Returns the run pushed out of the head to make room (the caller keeps it as a row), if any.
 */
export function recordSkip(progress: Progress, from: number, through: number, reason: string): [number, number, string] | null {
  const runs = (progress.skips ??= []);
  const last = runs[runs.length - 1];
  if (last && last[2] === reason && last[1] === progress.through) {
    last[1] = through;
    return null;
  }
  runs.push([from, through, reason]);
  return runs.length > MAX_SKIP_RUNS ? runs.shift()! : null;
}

/** Why `seq` was skipped without a row (the handler was not configured), or null. */
export function skipReasonOf(progress: Progress, seq: number): string | null {
  for (const [from, through, reason] of progress.skips ?? []) if (seq >= from && seq <= through) return reason;
  return null;
}

/** When the cursor passed `seq` (at the latest), or null if no mark covers it. */
export function completedAt(progress: Progress, seq: number): number | null {
  for (const [through, at] of progress.marks) if (seq <= through) return at;
  return null;
}
