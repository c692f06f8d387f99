// Storing events: one, a batch, or a provider's signed webhook.
import type { EntityRef, IngestResult } from "../types.ts";
import { arrayOf, bool, dateTime, error, gone, int, json, noContent, nullable, obj, ref, route, str, withBody } from "./route.ts";
import type { ApiErrorBody } from "./errors.ts";

/** What `POST /v1/events` takes. */
export interface EnvelopeInput {
  id?: string;
  type: string;
  entity?: EntityRef;
  occurredAt?: string | number;
  deliverAt?: string | number;
  data: { id: string } & Record<string, unknown>;
}

/** A stored, duplicate or scheduled event, as the API answers it. */
export type IngestAnswer = Omit<IngestResult, "deliverAt" | "payloadInUse"> | { id: string; entity: EntityRef; status: "scheduled" | "duplicate"; deliverAt: string };

export const eventRoutes = {
  postEvent: route<IngestAnswer, EnvelopeInput>()({
    method: "POST",
    path: "/v1/events",
    auth: "tenant",
    summary: "Store one event",
    body: { schema: ref("Envelope") },
    headers: { "Idempotency-Key": str },
    answers: {
      202: json(ref("IngestResult"), "Stored (status accepted, with seq), or scheduled for deliverAt (status scheduled)"),
      200: json(ref("IngestResult"), "A repeat of a known id with the same content (status duplicate)"),
      409: error("The id is known with different content (id_conflict), or a scheduled event past what its entity may hold (limit_exceeded, MAX_SCHEDULED_PER_ENTITY); nothing stored"),
      410: error("The entity was erased (entity_erased); nothing stored"),
      422: error("The type is not registered"),
      ...withBody,
    },
  }),
  postBatch: route<{ results: Array<IngestAnswer | ApiErrorBody> }, { events: EnvelopeInput[] } | EnvelopeInput[]>()({
    method: "POST",
    path: "/v1/events/batch",
    auth: "tenant",
    summary: "Store up to 100 events, each independent",
    body: { schema: { oneOf: [obj({ events: { type: "array", items: ref("Envelope"), maxItems: 100 } }), { type: "array", items: ref("Envelope"), maxItems: 100 }] } },
    answers: { 207: json(ref("BatchResults"), "One result per event, in order"), ...withBody },
  }),
};
