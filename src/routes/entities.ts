import { is } from "superstruct";
import { entityActor, type EntityActorRpc } from "../stubs.ts";
import type { AuthedRequest } from "../auth.ts";
import { ApiError } from "../errors.ts";
import { EntityId, EntityType } from "../schemas/common.ts";
import { intParam } from "./query.ts";
import type { EntityRef } from "../types.ts";

const DEFAULT_PAGE = 100;
const MAX_PAGE = 500;

/** The entity a path names; 404 for one no entity can have. */
export function entityFromPath(request: AuthedRequest): EntityRef {
  const { type, id } = request.params;
  // A malformed type or id cannot name an entity that ever received an event.
  if (!is(type, EntityType) || !is(id, EntityId)) throw notFound();
  return { type, id };
}

function notFound(): ApiError {
  return new ApiError(404, "not_found", "No such entity");
}

/** 404 for an entity that never had an event, 410 for one erased on request. */
export async function missingEntity(actor: Pick<EntityActorRpc, "erasedAt">): Promise<ApiError> {
  const erasedAt = await actor.erasedAt();
  return erasedAt === null ? notFound() : new ApiError(410, "gone", `The entity was erased at ${new Date(erasedAt).toISOString()}`);
}

/** `GET /v1/entities/{type}/{id}`. */
export async function getEntity(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const actor = entityActor(env, request.space, entityFromPath(request));
  const view = await actor.getEntity();
  if (!view) throw await missingEntity(actor);
  return Response.json(view);
}

/** `GET /v1/entities/{type}/{id}/export`: state, the whole log with deliveries, dead letters and scheduled events. */
export async function exportEntity(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const actor = entityActor(env, request.space, entityFromPath(request));
  const document = await actor.exportEntity();
  if (!document) throw await missingEntity(actor);
  return Response.json(document);
}

/** `GET /v1/entities/{type}/{id}/scheduled`: events the entity will append later, soonest first. */
export async function listScheduled(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const actor = entityActor(env, request.space, entityFromPath(request));
  const scheduled = await actor.scheduled();
  if (!scheduled) throw await missingEntity(actor);
  return Response.json({ scheduled: scheduled.map((s) => ({ id: s.id, type: s.type, deliverAt: new Date(s.deliverAt).toISOString() })) });
}

/** `DELETE /v1/entities/{type}/{id}/scheduled/{eventId}`: cancels one before it is appended; 404 once it was. */
export async function cancelScheduled(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const actor = entityActor(env, request.space, entityFromPath(request));
  const cancelled = await actor.cancelScheduled(request.params.eventId ?? "");
  if (cancelled === null) throw await missingEntity(actor);
  if (!cancelled) throw new ApiError(404, "not_found", "No such scheduled event (it may have been appended already)");
  return new Response(null, { status: 204 });
}

/**
 * `DELETE /v1/entities/{type}/{id}`: erases the entity's storage, D1 rows and dead letters and
 * leaves a tombstone: `GET` answers `410 gone` afterwards and new events `410 entity_erased`.
 */
export async function deleteEntity(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const actor = entityActor(env, request.space, entityFromPath(request));
  const outcome = await actor.eraseEntity();
  if (outcome === "missing") throw notFound();
  if (outcome === "gone") throw await missingEntity(actor);
  return new Response(null, { status: 204 });
}

/** `GET /v1/entities/{type}/{id}/events?after=&limit=`. */
export async function getEntityEvents(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const entity = entityFromPath(request);
  const after = intParam(request, "after", 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = intParam(request, "limit", DEFAULT_PAGE, 1, MAX_PAGE);
  const actor = entityActor(env, request.space, entity);
  const page = await actor.listEvents(after, limit);
  if (!page) throw await missingEntity(actor);
  return Response.json(page);
}
