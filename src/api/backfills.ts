// Delivering history again: one entity's to one handler, or every entity's (a backfill).
import type { BackfillAnswer } from "../control/backfills.ts";
import { arrayOf, bool, dateTime, error, gone, int, json, noContent, nullable, obj, ref, route, str, withBody } from "./route.ts";

export const backfillRoutes = {
  replayEntity: route<{ replayed: number }, { handler: string; fromSeq?: number }>()({
    method: "POST",
    path: "/v1/entities/{type}/{id}/replay",
    auth: "tenant",
    summary:
      "Deliver the entity's events from fromSeq (default 1) to one handler again, in seq order, with their original idempotency keys and the header Edgeflow-Replay: true. Events it has not delivered yet are left to its cursor; a pending retry and a dead letter are left as they are (dead letters have POST /v1/dead-letters/replay)",
    body: { schema: obj({ handler: str, fromSeq: { type: "integer", minimum: 1 } }, ["fromSeq"]) },
    answers: { 202: json(obj({ replayed: int }), "How many deliveries are due again"), 410: gone, ...withBody },
  }),
  createBackfill: route<BackfillAnswer, { handler: string; eventTypes?: string[]; since?: string | number }>()({
    method: "POST",
    path: "/v1/backfills",
    auth: "tenant",
    summary:
      "Replay one handler's events across every entity of the tenant (those of eventTypes, that occurred since since): the tenant's actor walks its entity list a page at a time, 8 entities at once, resumable after a restart; at most 10 run at once",
    body: { schema: obj({ handler: str, eventTypes: arrayOf(str), since: { oneOf: [dateTime, { type: "integer", minimum: 0 }] } }, ["eventTypes", "since"]) },
    answers: { 202: json(ref("Backfill"), "Started"), 422: error("An unregistered event type"), ...withBody },
  }),
  listBackfills: route<{ backfills: BackfillAnswer[] }>()({
    method: "GET",
    path: "/v1/backfills",
    auth: "tenant",
    summary: "Running backfills and the last 50 finished, newest first",
    answers: { 200: json(obj({ backfills: arrayOf(ref("Backfill")) }), "Backfills") },
  }),
  getBackfill: route<BackfillAnswer>()({
    method: "GET",
    path: "/v1/backfills/{id}",
    auth: "tenant",
    summary: "A backfill's progress",
    answers: { 200: json(ref("Backfill"), "The backfill") },
  }),
};
