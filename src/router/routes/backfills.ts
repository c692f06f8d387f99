// Replay and backfill: a handler's history delivered again, for one entity
// (`POST /v1/entities/{type}/{id}/replay`) or across the tenant (`/v1/backfills`, walked by the
// tenant's actor a page of entities at a time). Re-deliveries keep their idempotency keys and
// carry `Edgeflow-Replay: true`.
import { integer, min, object, optional, size, string } from "superstruct";
import type { AuthedRequest } from "../auth.ts";
import { backfillAnswer, CreateBackfill } from "../../control/backfills.ts";
import { ApiError } from "../../api/errors.ts";
import { toEpochMs } from "../../schemas/common.ts";
import { entityActor, tenantActor } from "../../rpc/actors.ts";
import { notFound, readRequest, requireRegisteredTypes, staleTenant } from "./control-body.ts";
import { entityFromPath, missingEntity } from "./entities.ts";
import { requireHandler } from "./pausing.ts";
import type { Handlers } from "../register.ts";
import type { backfillRoutes } from "../../api/backfills.ts";

const ReplayBody = object({ handler: size(string(), 1, 200), fromSeq: optional(min(integer(), 1)) });

/** `POST /v1/entities/{type}/{id}/replay` `{"handler","fromSeq"?}` → `202 {"replayed": n}`. */
export async function replayEntity(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const body = await readRequest(request, env, ReplayBody, "replay");
  const handler = await requireHandler(request, env, body.handler);
  const actor = entityActor(env, request.space, entityFromPath(request));
  const replayed = await actor.replayHandler(handler, { fromSeq: body.fromSeq ?? 1 });
  if (replayed === null) throw await missingEntity(actor);
  return Response.json({ replayed }, { status: 202 });
}

/** `POST /v1/backfills` `{"handler","eventTypes"?,"since"?}` → `202` with its id and progress. */
export async function createBackfill(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const body = await readRequest(request, env, CreateBackfill, "backfill");
  requireRegisteredTypes(body.eventTypes);
  const handler = await requireHandler(request, env, body.handler);
  const started = await tenantActor(env, request.tenant).startBackfill(request.space, { handler, mode: "replay", eventTypes: body.eventTypes ?? null, since: body.since === undefined ? null : toEpochMs(body.since) });
  if (started === "limit") throw new ApiError(400, "invalid_request", "The tenant runs as many backfills as it may at once (10); wait for one to finish");
  if (started === null) throw staleTenant();
  return Response.json(backfillAnswer(started), { status: 202 });
}

/** `GET /v1/backfills/{id}`. */
export async function getBackfill(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const found = await tenantActor(env, request.tenant).getBackfill(request.params.id ?? "");
  if (!found) throw notFound("backfill");
  return Response.json(backfillAnswer(found));
}

/** `GET /v1/backfills`: the running ones and the last 50 finished, newest first. */
export async function listBackfills(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  return Response.json({ backfills: (await tenantActor(env, request.tenant).listBackfills()).map(backfillAnswer) });
}

/** This file's routes (src/api/backfills.ts), by name. */
export const backfillHandlers = {
  replayEntity,
  createBackfill,
  listBackfills,
  getBackfill,
} satisfies Handlers<typeof backfillRoutes>;
