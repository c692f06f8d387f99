import { object, optional, record, string, unknown, validate, type Infer, type StructError } from "superstruct";
import { ApiError, type Issue } from "../errors";
import { eventDefinition } from "../events/registry";
import type { EntityRef, IncomingEvent, JsonObject } from "../types";
import { EntityId, EntityType, EventId, Timestamp, toEpochMs } from "./common";

const EntityRefStruct = object({ type: EntityType, id: EntityId });

/** The public event envelope. Unknown top-level keys are refused so typos surface early. */
export const Envelope = object({
  id: optional(EventId),
  type: string(),
  entity: optional(EntityRefStruct),
  occurredAt: optional(Timestamp),
  data: record(string(), unknown()),
});
export type Envelope = Infer<typeof Envelope>;

/** Superstruct failures as the contract's `issues`: paths dotted and prefixed, one issue per path. */
export function toIssues(error: StructError, prefix = ""): Issue[] {
  const byPath = new Map<string, string>();
  for (const failure of error.failures()) {
    const path = [prefix, ...failure.path.map(String)].filter((part) => part !== "").join(".");
    if (!byPath.has(path)) byPath.set(path, failure.message);
  }
  return [...byPath].map(([path, message]) => ({ path, message }));
}

function invalid(issues: Issue[]): ApiError {
  return new ApiError(400, "invalid_event", "The event is invalid", issues);
}

export interface EnvelopeContext {
  /** The request's `Idempotency-Key` header, used when the envelope has no id. */
  idempotencyKey?: string | null;
  receivedAt: number;
  /** Prefix for issue paths, e.g. `events.3` inside a batch. */
  path?: string;
}

/**
 * Validates one envelope and its type's `data`, derives the entity and the event id, and returns
 * the normalised event. Throws `ApiError` (400 or 422) with every issue found.
 */
export function parseEnvelope(body: unknown, context: EnvelopeContext): IncomingEvent {
  const prefix = context.path ?? "";
  const at = (path: string) => [prefix, path].filter((part) => part !== "").join(".");
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalid([{ path: prefix, message: "must be a JSON object with type and data" }]);
  }
  const [envelopeError, envelope] = validate(body, Envelope);
  if (envelopeError) throw invalid(toIssues(envelopeError, prefix));

  const definition = eventDefinition(envelope.type);
  if (!definition || definition.internal) {
    throw new ApiError(
      422,
      "unknown_event_type",
      definition ? `${envelope.type} is emitted by edgeflow itself and cannot be posted` : `Unknown event type: ${envelope.type}`,
      [{ path: at("type"), message: "is not a registered event type" }],
    );
  }
  const [dataError, data] = definition.validateData(envelope.data);
  if (dataError) throw invalid(toIssues(dataError, at("data")));

  let entity: EntityRef;
  if (envelope.entity) {
    entity = envelope.entity;
  } else {
    // Every registered type requires data.id, so the derived entity is always well-formed here.
    entity = { type: envelope.type.split(".")[0]!, id: String(data.id) };
    const [entityError] = validate(entity, EntityRefStruct);
    if (entityError) throw invalid([{ path: at("type"), message: "cannot derive an entity type from this event type" }]);
  }

  let id = envelope.id;
  if (id === undefined && context.idempotencyKey != null) {
    const [keyError, key] = validate(context.idempotencyKey, EventId);
    if (keyError) throw invalid([{ path: "Idempotency-Key", message: keyError.message }]);
    id = key;
  }

  return {
    id: id ?? `evt_${crypto.randomUUID()}`,
    type: envelope.type,
    entity,
    occurredAt: envelope.occurredAt === undefined ? context.receivedAt : toEpochMs(envelope.occurredAt),
    receivedAt: context.receivedAt,
    // The body came from JSON.parse and validation keeps values as they are, so it is JSON.
    data: data as JsonObject,
  };
}
