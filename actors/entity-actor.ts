import { DurableObject } from "cloudflare:workers";
import type { EntityActorRpc } from "../src/actors";
import { eventDefinition } from "../src/events/registry";
import type {
  DeliveryStatus,
  DeliveryView,
  EntityRef,
  EntityView,
  EventPage,
  IncomingEvent,
  IngestResult,
  JsonObject,
  JsonValue,
} from "../src/types";
import { migrate } from "./migrations";
import { createSql, type Sql } from "./sql";

interface EntityRow extends Record<string, SqlStorageValue> {
  tenant: string;
  type: string;
  id: string;
  version: number;
  created_at: number;
  updated_at: number;
}

interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  type: string;
  occurred_at: number;
  received_at: number;
  data: string;
}

interface DeliveryRow extends Record<string, SqlStorageValue> {
  event_seq: number;
  handler: string;
  status: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number | null;
  completed_at: number | null;
}

const MAX_PAGE = 500;

/** The RPC interface with each method's result unwrapped from its Promise. */
type Synchronous<T> = { [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R | Promise<R> : T[K] };

// Stored by this class from validated JSON values, so parsing gives JSON back.
const parseJson = (text: string): JsonValue => JSON.parse(text) as JsonValue;
const parseJsonObject = (text: string): JsonObject => JSON.parse(text) as JsonObject;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * One Durable Object per entity (`{tenant}/{type}/{id}`): the source of truth for that entity's
 * event log, its merged state and its outbox of deliveries.
 */
export class EntityActor extends DurableObject<Env> implements Synchronous<EntityActorRpc> {
  private readonly sql: Sql;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = createSql(ctx.storage.sql);
    // Synchronous SQL in the constructor runs before any request is delivered, so no
    // blockConcurrencyWhile is needed for schema set-up.
    migrate(ctx.storage);
  }

  /**
   * Stores events for this entity. For each event, in ONE synchronous transaction: dedupe by id,
   * append to the log with the next seq, merge `data` into the state (per-field last writer wins
   * by occurredAt, then id), and write one outbox row per handler. The RPC answers only after the
   * write is durable (the output gate holds the reply until then).
   */
  ingest(tenant: string, events: IncomingEvent[]): IngestResult[] {
    const now = Date.now();
    return this.ctx.storage.transactionSync(() => events.map((event) => this.ingestOne(tenant, event, now)));
  }

  private ingestOne(tenant: string, event: IncomingEvent, now: number): IngestResult {
    const known = this.sql<{ seq: number }>`SELECT seq FROM events WHERE id = ${event.id}`[0];
    if (known) return { id: event.id, entity: event.entity, status: "duplicate", seq: known.seq };

    const definition = eventDefinition(event.type);
    if (!definition) throw new Error(`unregistered event type reached the actor: ${event.type}`);

    const current = this.sql<EntityRow>`SELECT * FROM entity`[0];
    if (!current) {
      this.sql`INSERT INTO entity (singleton, tenant, type, id, version, created_at, updated_at)
               VALUES (1, ${tenant}, ${event.entity.type}, ${event.entity.id}, 0, ${now}, ${now})`;
    } else if (current.tenant !== tenant || current.type !== event.entity.type || current.id !== event.entity.id) {
      // Actor names are derived from these three values, so a mismatch is a routing bug.
      throw new Error("event routed to the wrong entity actor");
    }

    const seq = Number(this.sql<{ seq: number }>`SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM events`[0]!.seq);
    this.sql`INSERT INTO events (seq, id, type, occurred_at, received_at, data)
             VALUES (${seq}, ${event.id}, ${event.type}, ${event.occurredAt}, ${event.receivedAt}, ${JSON.stringify(event.data)})`;
    this.mergeState(event.data, event.occurredAt, event.id);
    for (const handler of definition.handlers) {
      this.sql`INSERT INTO outbox (event_seq, handler, status, next_attempt_at, created_at)
               VALUES (${seq}, ${handler}, 'pending', ${now}, ${now})`;
    }
    this.sql`UPDATE entity SET version = version + 1, updated_at = ${now}`;
    return { id: event.id, entity: event.entity, status: "accepted", seq };
  }

  /**
   * Per-field last-writer-wins: a field takes the new value only if (occurredAt, eventId) is
   * greater than what wrote it last, so any arrival order of the same events gives the same state.
   */
  private mergeState(data: JsonObject, occurredAt: number, eventId: string): void {
    for (const [field, value] of Object.entries(data)) {
      this.sql`INSERT INTO state_fields (field, value, occurred_at, event_id)
               VALUES (${field}, ${JSON.stringify(value)}, ${occurredAt}, ${eventId})
               ON CONFLICT (field) DO UPDATE SET
                 value = excluded.value, occurred_at = excluded.occurred_at, event_id = excluded.event_id
               WHERE excluded.occurred_at > state_fields.occurred_at
                  OR (excluded.occurred_at = state_fields.occurred_at AND excluded.event_id > state_fields.event_id)`;
    }
  }

  /** The entity's state and counters, or null if it never received an event. */
  getEntity(): EntityView | null {
    const row = this.sql<EntityRow>`SELECT * FROM entity`[0];
    if (!row) return null;
    const state: JsonObject = {};
    for (const { field, value } of this.sql<{ field: string; value: string }>`SELECT field, value FROM state_fields ORDER BY field`) {
      // defineProperty, not assignment: a field named __proto__ must stay a plain own property.
      Object.defineProperty(state, field, { value: parseJson(value), enumerable: true, writable: true, configurable: true });
    }
    const log = this.sql<{ count: number; last: number | null }>`SELECT COUNT(*) AS count, MAX(seq) AS last FROM events`[0]!;
    const deliveries = { pending: 0, succeeded: 0, skipped: 0, dead: 0 };
    for (const { status, n } of this.sql<{ status: string; n: number }>`SELECT status, COUNT(*) AS n FROM outbox GROUP BY status`) {
      const bucket = status === "in_flight" ? "pending" : status;
      if (bucket === "pending" || bucket === "succeeded" || bucket === "skipped" || bucket === "dead") deliveries[bucket] += Number(n);
    }
    return {
      entity: this.entityRef(row),
      state,
      version: Number(row.version),
      createdAt: iso(row.created_at)!,
      updatedAt: iso(row.updated_at)!,
      events: { count: Number(log.count), lastSeq: Number(log.last ?? 0) },
      deliveries,
    };
  }

  /** A page of the event log in seq order, each event with its deliveries. */
  listEvents(after: number, limit: number): EventPage | null {
    if (!this.sql`SELECT 1 FROM entity`[0]) return null;
    const size = Math.min(Math.max(1, limit), MAX_PAGE);
    const rows = this.sql<EventRow>`SELECT * FROM events WHERE seq > ${after} ORDER BY seq LIMIT ${size + 1}`;
    const page = rows.slice(0, size);
    const bySeq = new Map<number, DeliveryView[]>();
    if (page.length > 0) {
      const first = page[0]!.seq;
      const last = page[page.length - 1]!.seq;
      for (const d of this.sql<DeliveryRow>`SELECT event_seq, handler, status, attempts, last_error, next_attempt_at, completed_at
                                            FROM outbox WHERE event_seq BETWEEN ${first} AND ${last} ORDER BY id`) {
        const list = bySeq.get(d.event_seq) ?? [];
        list.push({
          handler: d.handler,
          // Written only by this class with DeliveryStatus values.
          status: d.status as DeliveryStatus,
          attempts: Number(d.attempts),
          lastError: d.last_error,
          nextAttemptAt: d.status === "pending" || d.status === "in_flight" ? iso(d.next_attempt_at) : null,
          completedAt: iso(d.completed_at),
        });
        bySeq.set(d.event_seq, list);
      }
    }
    return {
      events: page.map((e) => ({
        id: e.id,
        seq: e.seq,
        type: e.type,
        occurredAt: iso(e.occurred_at)!,
        receivedAt: iso(e.received_at)!,
        data: parseJsonObject(e.data),
        deliveries: bySeq.get(e.seq) ?? [],
      })),
      next: rows.length > size ? String(page[page.length - 1]!.seq) : null,
    };
  }

  private entityRef(row: EntityRow): EntityRef {
    return { type: row.type, id: row.id };
  }
}
