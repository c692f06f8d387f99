// A provider's signed webhook, stored as an event.
import type { IngestAnswer } from "./events.ts";
import { arrayOf, bool, dateTime, error, gone, int, json, noContent, nullable, obj, ref, route, str, withBody } from "./route.ts";

export const sourceRoutes = {
  postSourceEvent: route<IngestAnswer, unknown>()({
    method: "POST",
    path: "/v1/sources/{tenant}/{source}",
    auth: "public",
    summary: "A provider's signed webhook, verified with the tenant's source of that name (stored, else in TENANTS) and stored as an event",
    body: { schema: { type: "object" } },
    answers: {
      202: json(ref("IngestResult"), "Stored"),
      200: json(ref("IngestResult"), "Duplicate"),
      401: error("The signature does not verify (invalid_signature), or no such tenant or source"),
      409: error("id_conflict"),
      410: error("The entity was erased (entity_erased)"),
      422: error("The mapped type is not registered"),
      ...withBody,
    },
  }),
};
