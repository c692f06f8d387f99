import { entityTypeOf } from "./entity-type.ts";
import { object, optional, record, string, unknown, validate, type Infer } from "superstruct";
import { PAYLOAD_MARK } from "../payload-ref.ts";
import { ApiError, type Issue } from "../api/errors.ts";
import { toIssues } from "../schemas/issues.ts";
import { eventDefinition } from "./registry.ts";
import type { EntityRef, IncomingEvent, JsonObject } from "../types.ts";
import { EntityId, EntityType, EventId, Timestamp, timestampOutOfBounds, toEpochMs } from "../schemas/common.ts";
import { fingerprint } from "../schemas/fingerprint.ts";

const EntityRefStruct = object({ type: EntityType, id: EntityId });

/** How far ahead `deliverAt` may be: a year (alarms are clamped to it too, actors/alarm.ts). */
const MAX_SCHEDULE_AHEAD_MS = 365 * 24 * 60 * 60 * 1000;

/** The public event envelope. Unknown top-level keys are refused so typos surface early. */
export const Envelope = object({
  id: optional(EventId),
  type: string(),
  entity: optional(EntityRefStruct),
  occurredAt: optional(Timestamp),
  /** Append the event at this time, not now (at most a year ahead): a scheduled event. */
  deliverAt: optional(Timestamp),
  data: record(string(), unknown()),
});
export type Envelope = Infer<typeof Envelope>;

function invalid(issues: Issue[]): ApiError {
  return new ApiError(400, "invalid_event", "The event is invalid", issues);
}

interface EnvelopeContext {
  /** The request's `Idempotency-Key` header, used when the envelope has no id. */
  idempotencyKey?: string | null;
  receivedAt: number;
  /** Prefix for issue paths, e.g. `events.3` inside a batch. */
  path?: string;
}

/**
 * Validates one envelope and its type's `data`, derives the entity and the event id, and returns
 * the normalised event with its fingerprint. Throws `ApiError` (400 or 422) with every issue found.
 */
export async function parseEnvelope(body: unknown, context: EnvelopeContext): Promise<IncomingEvent> {
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
  // The log and the state mark values kept in R2 with this key (src/payloads.ts); a client's must
  // never read as one, or it could point a reader at an object that is not its own.
  const reserved = reservedPaths(data as JsonObject);
  if (reserved.length > 0) throw invalid(reserved.map((path) => ({ path: at(`data${path}`), message: `must not use the key ${PAYLOAD_MARK}, which edgeflow keeps for its own` })));

  // Every registered type requires data.id, which names the entity; an explicit entity must agree,
  // or an event of one type could merge its unvalidated fields into an entity of another.
  const entity: EntityRef = { type: entityTypeOf(envelope.type), id: data.id };
  if (envelope.entity) {
    const issues: Issue[] = [];
    if (envelope.entity.type !== entity.type) issues.push({ path: at("entity.type"), message: `must be "${entity.type}" for ${envelope.type}` });
    if (envelope.entity.id !== entity.id) issues.push({ path: at("entity.id"), message: "must equal data.id" });
    if (issues.length > 0) throw invalid(issues);
  }

  let id = envelope.id;
  if (id === undefined && context.idempotencyKey != null) {
    const [keyError, key] = validate(context.idempotencyKey, EventId);
    if (keyError) throw invalid([{ path: "Idempotency-Key", message: keyError.message }]);
    id = key;
  }

  const occurredAt = envelope.occurredAt === undefined ? undefined : toEpochMs(envelope.occurredAt);
  const outOfBounds = occurredAt === undefined ? null : timestampOutOfBounds(occurredAt, context.receivedAt);
  if (outOfBounds) throw invalid([{ path: at("occurredAt"), message: outOfBounds }]);

  const deliverAt = envelope.deliverAt === undefined ? undefined : toEpochMs(envelope.deliverAt);
  if (deliverAt !== undefined && (deliverAt < 0 || deliverAt > context.receivedAt + MAX_SCHEDULE_AHEAD_MS)) {
    throw invalid([{ path: at("deliverAt"), message: "must be a time at most one year ahead (ISO-8601 or epoch milliseconds)" }]);
  }

  // The body came from JSON.parse and validation keeps values as they are, so it is JSON.
  const json = data as JsonObject;
  return {
    id: id ?? `evt_${crypto.randomUUID()}`,
    type: envelope.type,
    entity,
    occurredAt: occurredAt ?? deliverAt ?? context.receivedAt,
    receivedAt: context.receivedAt,
    // A time already past is no schedule: the event is appended now.
    ...(deliverAt !== undefined && deliverAt > context.receivedAt ? { deliverAt } : {}),
    data: json,
    // A missing occurredAt stays missing here (never the receipt time), so an honest retry matches.
    fingerprint: await fingerprint({ type: envelope.type, entity: { type: entity.type, id: entity.id }, occurredAt: occurredAt ?? null, data: json }),
  };
}

/** Where data uses the reserved key: at its top, or at the top of one of its values (what the state keeps). */
function reservedPaths(data: JsonObject): string[] {
  const paths = Object.hasOwn(data, PAYLOAD_MARK) ? [""] : [];
  for (const [field, value] of Object.entries(data)) {
    if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.hasOwn(value, PAYLOAD_MARK)) paths.push(`.${field}`);
  }
  return paths;
}
