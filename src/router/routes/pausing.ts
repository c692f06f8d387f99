// Pausing, resuming and cancelling deliveries: per entity (`/v1/entities/{type}/{id}/pause|resume|cancel`)
// and for every entity of the tenant (`/v1/handlers`). Pausing holds deliveries where they are (the
// cursor does not move, so a held event costs no row); resuming lets them drain in seq order.
import { nullable, object, optional, size, string, validate, type Struct } from "superstruct";
import { entityActor, tenantActor } from "../../rpc/actors.ts";
import type { AuthedRequest } from "../auth.ts";
import { parseJson, readBodyLimited, requireJsonContentType } from "../body.ts";
import { deploymentSettings } from "../../config.ts";
import { endpointIdOf } from "../../rpc/names.ts";
import { forgetTenant, freshTenantConfiguration, tenantConfiguration } from "../../control/runtime.ts";
import { ApiError } from "../../api/errors.ts";
import { HANDLERS } from "../../handlers/registry.ts";
import { toIssues } from "../../schemas/issues.ts";
import { entityFromPath, missingEntity } from "./entities.ts";
import { staleTenant } from "./control-body.ts";
import type { Handlers } from "../register.ts";
import type { pausingRoutes } from "../../api/pausing.ts";

const HandlerBody = object({ handler: optional(size(string(), 1, 200)) });
const CancelBody = object({ handler: optional(size(string(), 1, 200)), reason: optional(nullable(size(string(), 0, 500))) });

/** An optional JSON body: an empty one is `{}`, validated like any other. */
async function optionalBody<T, S>(request: AuthedRequest, env: Cloudflare.Env, struct: Struct<T, S>): Promise<T> {
  const bytes = await readBodyLimited(request, deploymentSettings(env).maxBodyBytes);
  if (bytes.byteLength > 0) requireJsonContentType(request);
  const [error, value] = validate(bytes.byteLength === 0 ? {} : parseJson(bytes), struct);
  if (error) throw new ApiError(400, "invalid_request", "The request is invalid", toIssues(error));
  return value;
}

/** A handler of the tenant: a registered one, or one of its endpoints (`endpoint:{id}`). */
export async function requireHandler(request: AuthedRequest, env: Cloudflare.Env, name: string): Promise<string> {
  const endpointId = endpointIdOf(name);
  const known = endpointId === null ? HANDLERS.some((h) => h.name === name) : (await tenantConfiguration(env, request.tenant)).endpoints.has(endpointId);
  if (!known) throw new ApiError(404, "not_found", `No handler ${name}`);
  return name;
}

/**
 * `POST /v1/entities/{type}/{id}/pause` and `/resume` `{"handler"?}`: one handler, or all; both
 * answer what is paused afterwards.
 */
export function holdEntity(action: "pause" | "resume") {
  return async (request: AuthedRequest, env: Cloudflare.Env): Promise<Response> => {
    const { handler } = await optionalBody(request, env, HandlerBody);
    if (handler !== undefined) await requireHandler(request, env, handler);
    const actor = entityActor(env, request.space, entityFromPath(request));
    const paused = await (action === "pause" ? actor.pause(handler) : actor.resume(handler));
    if (paused === null) throw await missingEntity(actor);
    return Response.json({ paused });
  };
}

/** `POST /v1/entities/{type}/{id}/cancel` `{"handler"?,"reason"?}`: pending deliveries end skipped. */
export async function cancelEntity(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const { handler, reason } = await optionalBody(request, env, CancelBody);
  if (handler !== undefined) await requireHandler(request, env, handler);
  const actor = entityActor(env, request.space, entityFromPath(request));
  const cancelled = await actor.cancel(handler, `cancelled${reason ? `: ${reason}` : ""}`);
  if (cancelled === null) throw await missingEntity(actor);
  return Response.json({ cancelled });
}

/** `GET /v1/handlers`: every handler of the tenant (registered ones and its endpoints) and whether it is paused. */
export async function listHandlers(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const runtime = await freshTenantConfiguration(env, request.tenant);
  const names = [...HANDLERS.map((h) => h.name as string), ...[...runtime.endpoints.keys()].map((id) => `endpoint:${id}`)];
  return Response.json({ handlers: names.map((name) => ({ name, paused: runtime.pausedHandlers.has(name) })) });
}

/** `POST /v1/handlers/{handler}/pause` and `/resume`: for every entity of the tenant. */
export function setHandlerPaused(paused: boolean) {
  return async (request: AuthedRequest, env: Cloudflare.Env): Promise<Response> => {
    const handler = await requireHandler(request, env, decodeURIComponent(request.params.handler ?? ""));
    const answer = await tenantActor(env, request.tenant).setHandlerPaused(request.space, handler, paused);
    forgetTenant(request.tenant);
    if (answer === null) throw staleTenant();
    return Response.json({ handler, paused });
  };
}

/** This file's routes (src/api/pausing.ts), by name. */
export const pausingHandlers = {
  pauseEntity: holdEntity("pause"),
  resumeEntity: holdEntity("resume"),
  cancelEntity,
  listHandlers,
  pauseHandler: setHandlerPaused(true),
  resumeHandler: setHandlerPaused(false),
} satisfies Handlers<typeof pausingRoutes>;
