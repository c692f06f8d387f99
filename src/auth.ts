import type { IRequest } from "itty-router";
import { apiKeyDigest, ConfigError, TENANT_NAME, tenantConfig, tenants } from "./config";
import { tenantOfApiKey } from "./control/keys";
import { tenantRuntime } from "./control/runtime";
import { ApiError } from "./errors";
import { countReceived } from "./metrics/record";
import { enforceAuthFailureLimit, enforceRateLimit } from "./rate-limit";

/** The request as handlers see it after `authenticate` has run. */
export interface AuthedRequest extends IRequest {
  tenant: string;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** The operator key that works on loopback only when ADMIN_API_KEY is unset; see README. */
export const DEV_ADMIN_KEY = "dev_admin_key";

const isLoopback = (request: IRequest) => LOOPBACK.has(new URL(request.url).hostname);

function bearer(request: IRequest): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  return match ? match[1]! : null;
}

/**
 * `before` middleware: resolves the bearer API key to its tenant by the key's SHA-256 digest.
 * Keys of TENANTS tenants are known to every isolate. Keys of stored tenants name their tenant
 * (`ek_{tenant}_…`), so only that tenant's configuration is looked up, from a cache at most
 * CONFIG_TTL_MS old: no request passes through a shared object. When `TENANTS` is unset the
 * built-in demo tenant applies, but only to requests addressed to a loopback host, so a deploy
 * that forgot its TENANTS secret does not open the demo key to the internet. Failed attempts are
 * limited per client address (429 past the limit).
 */
export async function authenticate(request: IRequest, env: Cloudflare.Env): Promise<void> {
  const key = bearer(request);
  if (key === null) return refuse(request, env, "Missing or malformed Authorization: Bearer <api key>");
  const digest = await apiKeyDigest(key);
  let tenant = (await tenants(env).keyDigests).get(digest);
  const acting = request.headers.get("edgeflow-tenant");
  if (acting !== null && !tenant && (await isAdminKey(request, env))) {
    // The operator acts as a tenant (the dashboard's tenant picker): the admin key and the
    // tenant's name, which must exist.
    if (!(await tenantExists(env, acting))) throw new ApiError(404, "not_found", `No tenant ${acting}`);
    tenant = acting;
  } else if (tenant) {
    if (!env.TENANTS && !isLoopback(request)) return refuse(request, env, "The demo tenant is local-only; configure the TENANTS secret");
  } else {
    const named = tenantOfApiKey(key);
    const runtime = named === null ? null : await tenantRuntime(env, named);
    if (named === null || runtime?.record?.status !== "active" || !runtime.keyDigests.has(digest)) return refuse(request, env, "Unknown API key");
    if (tenantConfig(env, named)) throw new ConfigError(`tenant ${named} is both stored and in TENANTS`);
    tenant = named;
  }
  request.tenant = tenant;
  try {
    await enforceRateLimit(env, tenant);
  } catch (err) {
    // Refused events are counted per request: their bodies are not read.
    if (new URL(request.url).pathname.startsWith("/v1/events")) countReceived(tenant, "unknown", "rejected", "rate_limited");
    throw err;
  }
}

/**
 * `before` middleware for /v1/admin/*: the operator's ADMIN_API_KEY. When it is unset, the
 * development key works on loopback only, like the demo tenant.
 */
export async function authenticateAdmin(request: IRequest, env: Cloudflare.Env, options: { quiet?: boolean } = {}): Promise<void> {
  // Quiet: a refusal is not counted as a failed attempt (the caller tries a tenant key next).
  const fail = (message: string) => (options.quiet ? Promise.reject(new ApiError(401, "unauthorized", message)) : refuse(request, env, message));
  const key = bearer(request);
  if (key === null) return fail("Missing or malformed Authorization: Bearer <admin key>");
  const configured = env.ADMIN_API_KEY;
  const expected = configured ? configured : isLoopback(request) ? DEV_ADMIN_KEY : null;
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

async function tenantExists(env: Cloudflare.Env, name: string): Promise<boolean> {
  if (tenantConfig(env, name)) return true;
  if (!TENANT_NAME.test(name)) return false;
  return (await tenantRuntime(env, name)).record?.status === "active";
}

async function refuse(request: IRequest, env: Cloudflare.Env, message: string): Promise<never> {
  await enforceAuthFailureLimit(env, request);
  throw new ApiError(401, "unauthorized", message);
}
