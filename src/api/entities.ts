// One entity: its state, its log, its export and erasure, its scheduled events.
import type { EntityExport, EntityView, EventPage } from "../types.ts";
import { arrayOf, bool, dateTime, error, gone, int, json, noContent, nullable, obj, ref, route, str, withBody } from "./route.ts";

export const entityRoutes = {
  getEntity: route<EntityView>()({
    method: "GET",
    path: "/v1/entities/{type}/{id}",
    auth: "tenant",
    summary: "An entity's state and counters",
    answers: { 200: json(ref("Entity"), "The entity"), 410: gone },
  }),
  deleteEntity: route<null>()({
    method: "DELETE",
    path: "/v1/entities/{type}/{id}",
    auth: "tenant",
    summary: "Erase the entity: its storage, D1 rows, objects in R2 and dead letters; a tombstone stays, so GET answers 410 gone and new events 410 entity_erased",
    answers: { 204: noContent, 410: error("Erased before (gone)") },
  }),
  getEntityEvents: route<EventPage, undefined, { after?: number; limit?: number }>()({
    method: "GET",
    path: "/v1/entities/{type}/{id}/events",
    auth: "tenant",
    summary: "A page of the entity's log, each event with its deliveries",
    query: { after: int, limit: { type: "integer", minimum: 1, maximum: 500 } },
    answers: { 200: json(ref("EventPage"), "A page"), 400: error("A bad query parameter"), 410: gone },
  }),
  exportEntity: route<EntityExport>()({
    method: "GET",
    path: "/v1/entities/{type}/{id}/export",
    auth: "tenant",
    summary: "Everything the entity holds, as one document streamed a page of the log at a time: state, every event with its deliveries, dead letters, scheduled events",
    answers: { 200: json(ref("EntityExport"), "The export"), 410: gone },
  }),
  listScheduled: route<{ scheduled: Array<{ id: string; type: string; deliverAt: string }> }>()({
    method: "GET",
    path: "/v1/entities/{type}/{id}/scheduled",
    auth: "tenant",
    summary: "Events the entity will append later (scheduled with deliverAt, and its own follow-ups), soonest first",
    answers: { 200: json(obj({ scheduled: arrayOf(obj({ id: str, type: str, deliverAt: dateTime })) }), "Scheduled events"), 410: gone },
  }),
  cancelScheduled: route<null>()({
    method: "DELETE",
    path: "/v1/entities/{type}/{id}/scheduled/{eventId}",
    auth: "tenant",
    summary: "Cancel a scheduled event before it is appended (its object in R2 goes too)",
    answers: { 204: noContent, 410: gone },
  }),
};
