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
}

export interface SourceMeta {
  name: string;
  deliveryId?: string;
}

/** `conflict`: the id is known with a different fingerprint; nothing was stored. */
export type IngestStatus = "accepted" | "duplicate" | "conflict";

export interface IngestResult {
  id: string;
  entity: EntityRef;
  status: IngestStatus;
  seq: number;
}

export type DeliveryStatus = "pending" | "in_flight" | "succeeded" | "skipped" | "dead";

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
  events: { count: number; lastSeq: number };
  deliveries: { pending: number; succeeded: number; skipped: number; dead: number };
}
