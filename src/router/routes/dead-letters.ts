import { array, object, optional, size, string, validate } from "superstruct";
import { tenantActor } from "../../rpc/actors.ts";
import type { AuthedRequest } from "../auth.ts";
import { readBodyLimited, parseJson, requireJsonContentType } from "../body.ts";
import { deploymentSettings } from "../../config.ts";
import { ApiError } from "../../api/errors.ts";
import { EntityId, EntityType } from "../../schemas/common.ts";
import { toIssues } from "../../schemas/issues.ts";
import { intParam } from "./query.ts";
import type { Handlers } from "../register.ts";
import type { deadLetterRoutes } from "../../api/dead-letters.ts";

const ReplayFilter = object({
  ids: optional(size(array(size(string(), 1, 400)), 0, 1000)),
  handler: optional(string()),
  entity: optional(object({ type: EntityType, id: EntityId })),
});

/** `GET /v1/dead-letters?limit=&cursor=`: the tenant's dead letters, oldest first. */
export async function listDeadLetters(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const limit = intParam(request, "limit", 100, 1, 500);
  const cursor = intParam(request, "cursor", 0, 0, Number.MAX_SAFE_INTEGER);
  return Response.json(await tenantActor(env, request.tenant).listDeadLetters(limit, cursor));
}

/** `POST /v1/dead-letters/replay`: by ids, handler, entity (all must match), or everything. */
export async function replayDeadLetters(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const bytes = await readBodyLimited(request, deploymentSettings(env).maxBodyBytes);
  let filter = {};
  if (bytes.byteLength > 0) {
    requireJsonContentType(request);
    const [error, value] = validate(parseJson(bytes), ReplayFilter);
    if (error) throw new ApiError(400, "invalid_request", "The replay filter is invalid", toIssues(error));
    filter = value;
  }
  const replayed = await tenantActor(env, request.tenant).replay(filter);
  return Response.json({ replayed }, { status: 202 });
}

/** This file's routes (src/api/dead-letters.ts), by name. */
export const deadLetterHandlers = {
  listDeadLetters,
  replayDeadLetters,
} satisfies Handlers<typeof deadLetterRoutes>;
