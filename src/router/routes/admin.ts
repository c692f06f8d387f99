// The operator's API (`/v1/admin/*`, ADMIN_API_KEY): stored tenants and their API keys.
import type { IRequest } from "itty-router";
import { directory, tenantActor } from "../../rpc/actors.ts";
import { TENANT_NAME, staticTenant } from "../../control/tenants-config.ts";
import { CreateKey, CreateTenant, UpdateTenant, type Answered, type ApiKeyInfo, type TenantRecord, type TenantView } from "../../control/model.ts";
import { forgetTenant } from "../../control/runtime.ts";
import { ApiError } from "../../api/errors.ts";
import { iso, notFound, readRequest, requireSecretsKey } from "./control-body.ts";
import type { Handlers } from "../register.ts";
import type { adminRoutes } from "../../api/admin.ts";

function recordView(r: TenantRecord): TenantView {
  return {
    name: r.name,
    status: r.status,
    createdAt: iso(r.createdAt),
    inheritDestinations: r.inheritDestinations,
    ...(r.progress ? { progress: r.progress } : {}),
  };
}

/** The directory's short listing: what it keeps of each tenant. */
function entryView(r: Pick<TenantRecord, "name" | "status" | "createdAt">): Pick<TenantView, "name" | "status" | "createdAt"> {
  return { name: r.name, status: r.status, createdAt: iso(r.createdAt) };
}

function keyView(k: ApiKeyInfo): Answered<ApiKeyInfo> {
  return { id: k.id, label: k.label, prefix: k.prefix, createdAt: iso(k.createdAt) };
}

/** The tenant named in the path; a name no tenant can have is simply not found. */
function tenantName(request: IRequest): string {
  const name = request.params.name ?? "";
  if (!TENANT_NAME.test(name)) throw notFound("tenant");
  return name;
}

/** `POST /v1/admin/tenants`. */
export async function createTenant(request: IRequest, env: Cloudflare.Env): Promise<Response> {
  const { name } = await readRequest(request, env, CreateTenant, "tenant");
  if (!TENANT_NAME.test(name)) {
    throw new ApiError(400, "invalid_request", "The tenant is invalid", [{ path: "name", message: "expected [a-z0-9][a-z0-9_-]{0,63}" }]);
  }
  if (staticTenant(env, name)) throw new ApiError(409, "tenant_exists", `Tenant ${name} exists (in TENANTS)`);
  const record = await tenantActor(env, name).createTenant();
  if (!record) throw new ApiError(409, "tenant_exists", `Tenant ${name} exists`);
  await directory(env).put(record);
  forgetTenant(name);
  return Response.json(recordView(record), { status: 201 });
}

/** `GET /v1/admin/tenants`: the stored tenants (TENANTS tenants live in the deployment's configuration). */
export async function listTenants(_request: IRequest, env: Cloudflare.Env): Promise<Response> {
  return Response.json({ tenants: (await directory(env).list()).map(entryView) });
}

/** `GET /v1/admin/tenants/{name}`: with key and entity counts, and progress while erasing. */
export async function getTenant(request: IRequest, env: Cloudflare.Env): Promise<Response> {
  const described = await tenantActor(env, tenantName(request)).describe();
  if (!described) throw notFound("tenant");
  return Response.json({ ...recordView(described), keys: described.keys, entities: described.entities });
}

/**
 * `PATCH /v1/admin/tenants/{name}` `{"inheritDestinations": bool}`: whether the tenant's handlers
 * use the deployment-wide destinations where it has none of its own (off for stored tenants).
 */
export async function updateTenant(request: IRequest, env: Cloudflare.Env): Promise<Response> {
  const name = tenantName(request);
  const { inheritDestinations } = await readRequest(request, env, UpdateTenant, "tenant");
  const actor = tenantActor(env, name);
  const record = inheritDestinations === undefined ? await actor.describe() : await actor.setInheritDestinations(inheritDestinations);
  forgetTenant(name);
  if (!record || record.status !== "active") throw notFound("tenant");
  const described = await actor.describe();
  if (!described) throw notFound("tenant");
  return Response.json({ ...recordView(described), keys: described.keys, entities: described.entities });
}

/**
 * `DELETE /v1/admin/tenants/{name}`: the tenant is erasing from now on (its keys are refused here at
 * once, elsewhere within the cache TTL) and its actor erases everything it owns in steps.
 */
export async function deleteTenant(request: IRequest, env: Cloudflare.Env): Promise<Response> {
  const name = tenantName(request);
  const record = await tenantActor(env, name).eraseTenant();
  forgetTenant(name);
  if (!record) throw notFound("tenant");
  await directory(env).setStatus(name, "erasing");
  return Response.json({ name, status: "erasing" }, { status: 202 });
}

/** `POST /v1/admin/tenants/{name}/keys`: the key is in this answer and nowhere else, ever. */
export async function createKey(request: IRequest, env: Cloudflare.Env): Promise<Response> {
  const name = tenantName(request);
  const { label } = await readRequest(request, env, CreateKey, "key");
  requireSecretsKey(env, request);
  const created = await tenantActor(env, name).createKey(label ?? null);
  if (!created) throw notFound("tenant");
  forgetTenant(name);
  return Response.json({ ...keyView(created), key: created.key }, { status: 201 });
}

/** `GET /v1/admin/tenants/{name}/keys`: ids, labels and prefixes; never a key. */
export async function listKeys(request: IRequest, env: Cloudflare.Env): Promise<Response> {
  const keys = await tenantActor(env, tenantName(request)).listKeys();
  if (!keys) throw notFound("tenant");
  return Response.json({ keys: keys.map(keyView) });
}

/** `DELETE /v1/admin/tenants/{name}/keys/{id}`. */
export async function revokeKey(request: IRequest, env: Cloudflare.Env): Promise<Response> {
  const name = tenantName(request);
  const revoked = await tenantActor(env, name).revokeKey(request.params.id ?? "");
  forgetTenant(name);
  if (!revoked) throw notFound("key");
  return new Response(null, { status: 204 });
}

/** This file's routes (src/api/admin.ts), by name. */
export const adminHandlers = {
  createTenant,
  listTenants,
  getTenant,
  updateTenant,
  deleteTenant,
  createKey,
  listKeys,
  revokeKey,
} satisfies Handlers<typeof adminRoutes>;
