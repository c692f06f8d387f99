// Holding deliveries: one entity's (pause, resume, cancel), or one handler's for every entity.
import { arrayOf, bool, dateTime, error, gone, int, json, noContent, nullable, obj, ref, route, str, withBody } from "./route.ts";

const heldBody = { schema: obj({ handler: str }, ["handler"]), optional: true };

export const pausingRoutes = {
  pauseEntity: route<{ paused: string[] }, { handler?: string }>()({
    method: "POST",
    path: "/v1/entities/{type}/{id}/pause",
    auth: "tenant",
    summary: "Hold the entity's deliveries (one handler's, or all): they show status paused while events are still stored and merged",
    body: heldBody,
    answers: { 200: json(obj({ paused: arrayOf(str) }), "What is paused now"), 410: gone, ...withBody },
  }),
  resumeEntity: route<{ paused: string[] }, { handler?: string }>()({
    method: "POST",
    path: "/v1/entities/{type}/{id}/resume",
    auth: "tenant",
    summary: "Release held deliveries (one handler's, or all) to drain in seq order",
    body: heldBody,
    answers: { 200: json(obj({ paused: arrayOf(str) }), "What stays paused"), 410: gone, ...withBody },
  }),
  cancelEntity: route<{ cancelled: number }, { handler?: string; reason?: string | null }>()({
    method: "POST",
    path: "/v1/entities/{type}/{id}/cancel",
    auth: "tenant",
    summary: "End the entity's pending deliveries (one handler's, or all) as skipped, with the reason",
    body: { schema: obj({ handler: str, reason: nullable(str) }, ["handler", "reason"]), optional: true },
    answers: { 200: json(obj({ cancelled: int }), "How many ended"), 410: gone, ...withBody },
  }),
  listHandlers: route<{ handlers: Array<{ name: string; paused: boolean }> }>()({
    method: "GET",
    path: "/v1/handlers",
    auth: "tenant",
    summary: "Every handler of the tenant (endpoints as endpoint:{id}) and whether it is paused for every entity",
    answers: { 200: json(obj({ handlers: arrayOf(obj({ name: str, paused: bool })) }), "Handlers") },
  }),
  pauseHandler: route<{ handler: string; paused: boolean }>()({
    method: "POST",
    path: "/v1/handlers/{handler}/pause",
    auth: "tenant",
    summary: "Hold one handler's deliveries for every entity of the tenant",
    answers: { 200: json(obj({ handler: str, paused: { const: true } }), "Paused") },
  }),
  resumeHandler: route<{ handler: string; paused: boolean }>()({
    method: "POST",
    path: "/v1/handlers/{handler}/resume",
    auth: "tenant",
    summary: "Release one handler for every entity: every entity is woken and drains in seq order",
    answers: { 200: json(obj({ handler: str, paused: { const: false } }), "Resumed") },
  }),
};
