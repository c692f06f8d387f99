// One delivery attempt's job as plain data, which the runner, the queue consumer and the actors
// share, and what a handler's success asks of its entity: below the handlers, which take them.
import type { PayloadRef } from "../../payload-ref.ts";
import type { EntityRef, JsonObject, JsonValue } from "../../types.ts";

/** The stored event a delivery is for. */
export interface DeliveryEvent {
  id: string;
  seq: number;
  type: string;
  occurredAt: number;
  data: JsonObject;
}

/** Everything a handler may use for one attempt. Plain data, so queued work can carry it too. */
export interface DeliveryJob {
  tenant: string;
  entity: EntityRef;
  handler: string;
  /** This delivery's attempt number, counting from 1 (failed attempts before it, plus one). */
  attempt: number;
  event: DeliveryEvent;
  /** The entity's current state when the attempt starts. */
  state: JsonObject;
  /** `{tenant}/{type}/{id}/{eventId}:{handler}` (src/delivery/policy/keys.ts): the same on every retry and replay. */
  idempotencyKey: string;
  /** A delivery the handler's cursor had already passed: a replay (of a dead letter, or on request). */
  replay?: true;
  /** Where the entity keeps large values in R2 (src/payloads.ts): the stored form of the state's fields kept there, and the event's data's object. */
  stored?: { state?: Record<string, JsonValue>; payload?: PayloadRef };
}

/** Effects a handler asks its entity's actor to apply once the attempt has succeeded. */
export interface HandlerResult {
  /** Fields merged into the entity's state (e.g. `analysis`). */
  statePatch?: JsonObject;
  /** An internal event for this entity, emitted at `at` (epoch ms). */
  schedule?: { type: string; at: number; data: JsonObject };
}

