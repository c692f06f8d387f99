// `/v1/endpoints`: the tenant's customer webhook endpoints. Each is a handler (`endpoint:{id}`)
// with its own signing secret, shown once on creation and on rotation.
import { tenantActor } from "../../rpc/actors.ts";
import type { AuthedRequest } from "../auth.ts";
import { CreateEndpoint, UpdateEndpoint, type EndpointAnswer, type EndpointInfo } from "../../control/model.ts";
import { forgetTenant } from "../../control/runtime.ts";
import { deploymentSettings } from "../../config.ts";
import { ApiError } from "../../api/errors.ts";
import { checkUrl, iso, notFound, readRequest, requireRegisteredTypes, requireSecretsKey, staleTenant } from "./control-body.ts";
import type { Handlers } from "../register.ts";
import type { endpointRoutes } from "../../api/endpoints.ts";

function view(e: EndpointInfo): EndpointAnswer {
  return {
    id: e.id,
    url: e.url,
    eventTypes: e.eventTypes,
    description: e.description,
    backfill: e.backfill,
    status: e.status,
    lastSuccessAt: e.lastSuccessAt === null ? null : iso(e.lastSuccessAt),
    failingSince: e.failingSince === null ? null : iso(e.failingSince),
    rateLimit: e.rateLimit,
    maxConcurrency: e.maxConcurrency,
    createdAt: iso(e.createdAt),
  };
}

const idOf = (request: AuthedRequest): string => request.params.id ?? "";

/** `POST /v1/endpoints`: the secret appears in this answer (and a rotation's) only. */
export async function createEndpoint(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const input = await readRequest(request, env, CreateEndpoint, "endpoint");
  requireRegisteredTypes(input.eventTypes);
  checkUrl(env, request, input.url);
  requireSecretsKey(env, request);
  const created = await tenantActor(env, request.tenant).createEndpoint(request.space, {
    url: input.url,
    eventTypes: input.eventTypes ?? null,
    description: input.description ?? null,
    backfill: input.backfill === true,
    rateLimit: input.rateLimit ?? null,
    maxConcurrency: input.maxConcurrency ?? null,
  });
  if (created === "limit") {
    const max = deploymentSettings(env).maxEndpoints;
    throw new ApiError(409, "limit_exceeded", `The tenant has as many endpoints as it may (${max}, MAX_ENDPOINTS); delete one first`);
  }
  if (!created) throw staleTenant();
  forgetTenant(request.tenant);
  return Response.json({ ...view(created), secret: created.secret, ...(created.backfillId ? { backfillId: created.backfillId } : {}) }, { status: 201 });
}

/** `GET /v1/endpoints`. */
export async function listEndpoints(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  return Response.json({ endpoints: (await tenantActor(env, request.tenant).listEndpoints()).map(view) });
}

/** `GET /v1/endpoints/{id}`. */
export async function getEndpoint(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const endpoint = await tenantActor(env, request.tenant).getEndpoint(idOf(request));
  if (!endpoint) throw notFound("endpoint");
  return Response.json(view(endpoint));
}

/** `PATCH /v1/endpoints/{id}`: a new filter applies to deliveries not yet made. */
export async function updateEndpoint(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const change = await readRequest(request, env, UpdateEndpoint, "endpoint");
  requireRegisteredTypes(change.eventTypes);
  if (change.url !== undefined) checkUrl(env, request, change.url);
  const updated = await tenantActor(env, request.tenant).updateEndpoint(request.space, idOf(request), change);
  forgetTenant(request.tenant);
  if (!updated) throw notFound("endpoint");
  return Response.json(view(updated));
}

/** `DELETE /v1/endpoints/{id}`: its deliveries not yet made end `skipped`. */
export async function deleteEndpoint(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const deleted = await tenantActor(env, request.tenant).deleteEndpoint(request.space, idOf(request));
  forgetTenant(request.tenant);
  if (!deleted) throw notFound("endpoint");
  return new Response(null, { status: 204 });
}

/** `POST /v1/endpoints/{id}/rotate-secret`: later deliveries are signed with the new secret. */
export async function rotateEndpointSecret(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  requireSecretsKey(env, request);
  const secret = await tenantActor(env, request.tenant).rotateEndpointSecret(request.space, idOf(request));
  forgetTenant(request.tenant);
  if (!secret) throw notFound("endpoint");
  return Response.json({ secret });
}

/** This file's routes (src/api/endpoints.ts), by name. */
export const endpointHandlers = {
  createEndpoint,
  listEndpoints,
  getEndpoint,
  updateEndpoint,
  deleteEndpoint,
  rotateEndpointSecret,
} satisfies Handlers<typeof endpointRoutes>;
