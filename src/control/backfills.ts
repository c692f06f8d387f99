// Backfills: one handler's history re-delivered across every entity of the tenant, walked by the
// tenant's actor a page of entities at a time (actors/tenant/backfills.ts). The shapes the API takes
// and answers.
import { array, object, optional, size, string } from "superstruct";
import { Timestamp } from "../schemas/common.ts";

export const CreateBackfill = object({
  handler: size(string(), 1, 200),
  eventTypes: optional(size(array(size(string(), 1, 100)), 1, 50)),
  /** Events that occurred at or after this time: ISO-8601 or epoch ms, as an event's times are given. */
  since: optional(Timestamp),
});

/**
 * `replay`: each entity re-delivers the handler's settled events that match (pending rows, sent
 * with `Edgeflow-Replay: true`). `history`: a new endpoint that asked for the whole log; its cursor
 * starts at each entity's first event, so the walk only wakes each entity (no row per event).
 */
export type BackfillMode = "replay" | "history";

export interface BackfillSpec {
  handler: string;
  mode: BackfillMode;
  eventTypes: string[] | null;
  since: number | null;
}

export interface Backfill extends BackfillSpec {
  id: string;
  status: "running" | "done";
  /** Entities walked, of how many the tenant listed when it started (more may register meanwhile). */
  done: number;
  total: number;
  /** Events the walk has handed to the handler so far. */
  events: number;
  createdAt: number;
  finishedAt: number | null;
}

/** What `GET /v1/backfills/{id}` answers. */
export interface BackfillAnswer {
  id: string;
  handler: string;
  status: "running" | "done";
  entities: { done: number; total: number };
  events: number;
  eventTypes: string[] | null;
  since: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export function backfillAnswer(b: Backfill): BackfillAnswer {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: b.id,
    handler: b.handler,
    status: b.status,
    // Entities registered during the walk are counted as they are reached.
    entities: { done: b.done, total: Math.max(b.total, b.done) },
    events: b.events,
    eventTypes: b.eventTypes,
    since: b.since === null ? null : iso(b.since),
    createdAt: iso(b.createdAt),
    finishedAt: b.finishedAt === null ? null : iso(b.finishedAt),
  };
}
