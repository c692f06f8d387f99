import type { IRequest } from "itty-router";
import type { Watcher } from "../rpc/actors.ts";
import { hasLegacyKeys } from "../control/directory-cache.ts";
import { ConfigError } from "../config.ts";
import { apiKeyDigest, TENANT_NAME, staticTenant, tenants } from "../control/tenants-config.ts";
import { hasValidTag, tenantOfApiKey } from "../control/keys.ts";
import { tenantSpace } from "../rpc/names.ts";
import { tenantConfiguration } from "../control/runtime.ts";
import { ApiError } from "../api/errors.ts";
import { isLocalRequest } from "../local.ts";
import { DEV_ADMIN_KEY } from "../control/admin-key.ts";
import { countReceived } from "../metrics/record.ts";
import { enforceAuthFailureLimit, enforceRateLimit } from "./rate-limit.ts";

/** The request as handlers see it after `authenticate` has run. */
export interface AuthedRequest extends IRequest {
  tenant: string;
  /** The tenant's space (`tenantSpace`): where its entity actors live and what its writes are addressed to. */
  space: string;
  /** Who is asking: the key (or the operator) a live-feed socket opened by this request is tied to. */
  watcher: Watcher;
}

/** The operator key that works in local development only, when ADMIN_API_KEY is unset; see README. */

function bearer(request: IRequest): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  return match ? match[1]! : null;
}

/**
 * `before` middleware: resolves the bearer API key to its tenant by the key's SHA-256 digest.
 * Keys of TENANTS tenants are known to every isolate. Keys of stored tenants name their tenant
 * (`ek_{tenant}_…`) and carry a tag only this deployment can make (src/control/keys.ts): a key
 * without a valid tag is refused with no lookup at all, unless its tenant was stored before keys
 * had tags. Only then is that tenant's configuration looked up, from a cache at most
 * CONFIG_TTL_MS old. The demo tenant exists in local development only (src/local.ts). Failed
 * attempts are limited per client address (429 past the limit).
 */
export async function authenticate(request: IRequest, env: Cloudflare.Env): Promise<void> {
  const key = bearer(request);
  if (key === null) return refuse(request, env, "Missing or malformed Authorization: Bearer <api key>");
  const digest = await apiKeyDigest(key);
  const fixed = (await tenants(env).keyDigests).get(digest);
  const acting = request.headers.get("edgeflow-tenant");
  let found: { tenant: string; space: string; watcher: Watcher };
  if (acting !== null && !fixed && (await isAdminKey(request, env))) {
    // The operator acts as a tenant (the dashboard's tenant picker): the admin key and the
    // tenant's name, which must exist.
    const space = await activeSpace(env, acting);
    if (space === null) throw new ApiError(404, "not_found", `No tenant ${acting}`);
    found = { tenant: acting, space, watcher: { kind: "admin", digest } };
  } else if (fixed) {
    // The demo tenant (TENANTS unset) answers local requests only, whatever the deployment.
    if (!env.TENANTS && !isLocalRequest(env, request)) return refuse(request, env, "The demo tenant is local-only; configure the TENANTS secret");
    found = { tenant: fixed, space: fixed, watcher: { kind: "static", digest } };
  } else {
    const named = tenantOfApiKey(key);
    if (named === null || !(await mayLookUp(env, key, named))) return refuse(request, env, "Unknown API key");
    const runtime = await tenantConfiguration(env, named);
    const id = runtime.keyDigests.get(digest);
    if (runtime.record?.status !== "active" || id === undefined) return refuse(request, env, "Unknown API key");
    if (staticTenant(env, named)) throw new ConfigError(`tenant ${named} is both stored and in TENANTS`);
    found = { tenant: named, space: tenantSpace(named, runtime.record), watcher: { kind: "key", id } };
  }
  request.tenant = found.tenant;
  request.space = found.space;
  request.watcher = found.watcher;
  try {
    await enforceRateLimit(env, found.tenant);
  } catch (err) {
    // Refused events are counted per request: their bodies are not read.
    if (new URL(request.url).pathname.startsWith("/v1/events")) countReceived(found.tenant, "unknown", "rejected", "rate_limited");
    throw err;
  }
}

/**
 * Whether a stored tenant's key is worth a lookup: it carries this deployment's tag, or its
 * tenant is one stored before tags (the directory's short list, read at most once a minute per
 * isolate). A forged key of any other shape or name costs no request and no cache slot.
 */
async function mayLookUp(env: Cloudflare.Env, key: string, tenant: string): Promise<boolean> {
  return (await hasValidTag(env, key)) || hasLegacyKeys(env, tenant);
}

/** The admin key in force: ADMIN_API_KEY, else the development key for local requests; null: none. */
function adminKeyFor(env: Cloudflare.Env, request: Request): string | null {
  if (env.ADMIN_API_KEY) return env.ADMIN_API_KEY;
  return isLocalRequest(env, request) ? DEV_ADMIN_KEY : null;
}

/**
 * `before` middleware for /v1/admin/*: the operator's ADMIN_API_KEY. When it is unset, the
 * development key works in local development only (src/local.ts).
 */
export async function authenticateAdmin(request: IRequest, env: Cloudflare.Env, options: { quiet?: boolean } = {}): Promise<void> {
  // Quiet: a refusal is not counted as a failed attempt (the caller tries a tenant key next).
  const fail = (message: string) => (options.quiet ? Promise.reject(new ApiError(401, "unauthorized", message)) : refuse(request, env, message));
  const key = bearer(request);
  if (key === null) return fail("Missing or malformed Authorization: Bearer <admin key>");
  const expected = adminKeyFor(env, request);
  // Digests compared, so the comparison takes the same time wherever the keys differ.
  if (expected === null || (await apiKeyDigest(key)) !== (await apiKeyDigest(expected))) return fail("Unknown admin key");
}

/** Whether the bearer key is the operator's admin key (no failed attempt counted if not). */
export async function isAdminKey(request: IRequest, env: Cloudflare.Env): Promise<boolean> {
  try {
    await authenticateAdmin(request, env, { quiet: true });
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return false;
    throw err;
  }
}

/** The space of an existing, active tenant (TENANTS or stored), or null. */
async function activeSpace(env: Cloudflare.Env, name: string): Promise<string | null> {
  if (staticTenant(env, name)) return name;
  if (!TENANT_NAME.test(name)) return null;
  const record = (await tenantConfiguration(env, name)).record;
  return record?.status === "active" ? tenantSpace(name, record) : null;
}

/**
 * `GET /v1/whoami`: which kind of key this is, so the dashboard signs in without trying the admin
 * API with a tenant's key (which would count as a failed authentication). The admin key is
 * checked quietly first; only a key that is neither counts one failure.
 */
export async function whoami(request: IRequest, env: Cloudflare.Env): Promise<Response> {
  if (request.headers.get("edgeflow-tenant") === null && (await isAdminKey(request, env))) return Response.json({ role: "admin" });
  await authenticate(request, env);
  return Response.json({ role: "tenant", tenant: (request as AuthedRequest).tenant });
}

async function refuse(request: IRequest, env: Cloudflare.Env, message: string): Promise<never> {
  await enforceAuthFailureLimit(env, request);
  throw new ApiError(401, "unauthorized", message);
}
