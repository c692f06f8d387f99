import { is } from "superstruct";
import { entityActor } from "../actors";
import type { AuthedRequest } from "../auth";
import { ApiError } from "../errors";
import { EntityId, EntityType } from "../schemas/common";
import { intParam } from "./query";
import type { EntityRef } from "../types";

const DEFAULT_PAGE = 100;
const MAX_PAGE = 500;

function entityFromPath(request: AuthedRequest): EntityRef {
  const { type, id } = request.params;
  // A malformed type or id cannot name an entity that ever received an event.
  if (!is(type, EntityType) || !is(id, EntityId)) throw notFound();
  return { type, id };
}

function notFound(): ApiError {
  return new ApiError(404, "not_found", "No such entity");
}

/** `GET /v1/entities/{type}/{id}`. */
export async function getEntity(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const view = await entityActor(env, request.space, entityFromPath(request)).getEntity();
  if (!view) throw notFound();
  return Response.json(view);
}

/** `GET /v1/entities/{type}/{id}/events?after=&limit=`. */
export async function getEntityEvents(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const entity = entityFromPath(request);
  const after = intParam(request, "after", 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = intParam(request, "limit", DEFAULT_PAGE, 1, MAX_PAGE);
  const page = await entityActor(env, request.space, entity).listEvents(after, limit);
  if (!page) throw notFound();
  return Response.json(page);
}
