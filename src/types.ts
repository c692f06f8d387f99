import type { PayloadRef } from "./payload-ref.ts";
// Plain, serialisable shapes that cross the router ↔ actor RPC boundary.

/** A value that came out of JSON.parse, so it round-trips through JSON and RPC unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface EntityRef {
  type: string;
  id: string;
}

/** A validated, normalised event, ready for its entity's actor. Times are epoch ms. */
export interface IncomingEvent {
  id: string;
  type: string;
  entity: EntityRef;
  occurredAt: number;
  receivedAt: number;
  data: JsonObject;
  /**
   * Digest of the envelope as the client sent it (type, entity, occurredAt if given, data), so a
   * repeat of a known id can be told from a different event reusing it. Internal events have none.
   */
  fingerprint?: string;
  /** Where a signed-source event came from; the provider's delivery id is kept here, not as the id. */
  source?: SourceMeta;
  /** A scheduled event: appended to the log at this time (epoch ms), not now. */
  deliverAt?: number;
  /** Its data is over PAYLOAD_INLINE_BYTES and is in R2 (src/payloads.ts): the log keeps this reference. */
  payload?: PayloadRef;
}

export interface SourceMeta {
  name: string;
  deliveryId?: string;
}

/**
 * `conflict`: the id is known with a different fingerprint; `erased`: the entity was erased
 * (`DELETE /v1/entities/{type}/{id}`) and takes no more events; `limit`: a scheduled event past
 * what one entity may hold (MAX_SCHEDULED_PER_ENTITY). Nothing was stored for any of the three.
 */
type IngestStatus = "accepted" | "duplicate" | "conflict" | "erased" | "scheduled" | "limit";

export interface IngestResult {
  id: string;
  entity: EntityRef;
  status: IngestStatus;
  seq: number;
  /** For `scheduled`: when the event will be appended (epoch ms). */
  deliverAt?: number;
  /**
   * For an event with data in R2 that was not accepted or scheduled (a duplicate, a conflict, an
   * erased entity): whether the entity stores its object's key all the same (a duplicate of the
   * event that put it there). When false, nothing refers to that object, and the router deletes it.
   */
  payloadInUse?: boolean;
}

/** `paused`: due, but held while the entity or the tenant pauses the handler (POST …/pause). */
export type DeliveryStatus = "pending" | "in_flight" | "paused" | "succeeded" | "skipped" | "dead";

export interface DeliveryView {
  handler: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
  completedAt: string | null;
}

export interface EventView {
  id: string;
  seq: number;
  type: string;
  occurredAt: string;
  receivedAt: string;
  data: JsonObject;
  /** Why `data` is empty: its object in R2 is gone or no longer matches its hash (no retry can read it). */
  dataError?: string;
  /** Present for events from a signed source. */
  source?: SourceMeta;
  deliveries: DeliveryView[];
}

export interface EventPage {
  events: EventView[];
  next: string | null;
}

export interface EntityView {
  entity: EntityRef;
  state: JsonObject;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** Events stored now, the last seq given, and how many retention compacted away (`/v1/settings`). */
  events: { count: number; lastSeq: number; compacted: number };
  deliveries: { pending: number; succeeded: number; skipped: number; dead: number };
  /** The entity's stored size (its SQLite database), which storage is billed on. */
  storageBytes: number;
}

/** The WebSocket subprotocol a watcher speaks; a browser sends its key as a second one, `bearer.{key}`. */
export const LIVE_PROTOCOL = "edgeflow.live";

/** One message of the live feed (`GET /v1/live`, src/live/feed.ts): an accepted event or a delivery's outcome. */
export type LiveMessage =
  | { kind: "event"; id: string; type: string; entity: EntityRef; seq: number; status: string; at: number }
  | {
      kind: "delivery";
      entity: EntityRef;
      eventId: string;
      handler: string;
      attempt: number;
      status: string;
      statusCode: number | null;
      durationMs: number;
      error: string | null;
      at: number;
    };

/** `GET /v1/metrics`: the tenant's metrics as the dashboard charts them. */
export interface MetricsSummary {
  /** The last hour, oldest first: events accepted per minute (ISO-8601, floored), by type. */
  minutes: Array<{ minute: string; byType: Record<string, number> }>;
  /** Handler → outcome → deliveries settled. */
  deliveries: Record<string, Record<string, number>>;
  /** Handler → open dead letters. */
  deadLettersOpen: Record<string, number>;
  /** Handler → ingest-to-delivery latency quantiles in seconds, estimated from the histogram. */
  latency: Record<string, { count: number; p50: number | null; p99: number | null }>;
}

/** A tenant and its space (src/control/model.ts `tenantSpace`): what addresses its entity actors. */
export interface TenantScope {
  tenant: string;
  space: string;
}

/** What an export holds besides the log, which is streamed a page at a time (src/router/routes/entities.ts). */
export type ExportHead = Omit<EntityExport, "events" | "exportedAt">;

/** `GET /v1/entities/{type}/{id}/export`: everything one entity holds, in one document. */
export interface EntityExport {
  entity: EntityRef;
  state: JsonObject;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** The whole log in seq order, each event with its deliveries. */
  events: EventView[];
  /** Events compacted away by retention before this export: their content is gone, their ids still dedupe. */
  compacted: number;
  deadLetters: Array<{ id: string; eventId: string; handler: string; attempts: number; lastError: string | null; deadAt: string }>;
  /** Events the entity will append itself later (the lead's follow-up). */
  scheduled: Array<{ id: string; type: string; deliverAt: string }>;
  exportedAt: string;
}
