// The tenant's dead letters: listed across every entity, and replayed by filter.
import type { DeadLetterPage } from "../delivery/policy/dead-letters.ts";
import type { EntityRef } from "../types.ts";
import { error, int, json, obj, ref, route, str, withBody } from "./route.ts";

export const deadLetterRoutes = {
  listDeadLetters: route<DeadLetterPage, undefined, { limit?: number; cursor?: string }>()({
    method: "GET",
    path: "/v1/dead-letters",
    auth: "tenant",
    summary: "The tenant's dead letters, oldest first",
    query: { limit: { type: "integer", minimum: 1, maximum: 500 }, cursor: str },
    answers: { 200: json(ref("DeadLetterPage"), "A page"), 400: error("A bad query parameter") },
  }),
  replayDeadLetters: route<{ replayed: number }, { ids?: string[]; handler?: string; entity?: EntityRef }>()({
    method: "POST",
    path: "/v1/dead-letters/replay",
    auth: "tenant",
    summary: "Replay dead letters matching every given criterion (all when empty)",
    body: { schema: ref("ReplayFilter"), optional: true },
    answers: { 202: json(obj({ replayed: int }), "How many were replayed"), ...withBody },
  }),
};
