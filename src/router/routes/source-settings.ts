// `/v1/sources`: the tenant's signed sources (`POST /v1/sources/{tenant}/{name}`, src/router/routes/sources.ts),
// set with its own key. The secret is sealed at rest like a destination's and shown masked.
import { tenantActor } from "../../rpc/actors.ts";
import type { AuthedRequest } from "../auth.ts";
import { staticTenant } from "../../control/tenants-config.ts";
import { PutSource, SIMPLE_NAME, type StoredSource } from "../../control/model.ts";
import { forgetTenant, freshTenantConfiguration } from "../../control/runtime.ts";
import { maskSecret } from "../../control/secrets.ts";
import { ApiError } from "../../api/errors.ts";
import { deploymentSettings } from "../../config.ts";
import { MAX_MAPPING_BYTES } from "../../sources/mapping-schema.ts";
import { signatureScheme } from "../../sources/schemes.ts";
import { notFound, readRequest, requireSecretsKey, staleTenant } from "./control-body.ts";
import type { Handlers } from "../register.ts";
import type { sourceSettingRoutes } from "../../api/source-settings.ts";

function nameOf(request: AuthedRequest): string {
  const name = request.params.name ?? "";
  if (!SIMPLE_NAME.test(name)) throw new ApiError(400, "invalid_request", "The source name is invalid", [{ path: "name", message: "expected [a-z0-9][a-z0-9_-]{0,63}" }]);
  return name;
}

/** A source as the API shows it: the secret masked. */
function masked(source: StoredSource): StoredSource {
  return { ...source, secret: maskSecret(source.secret) };
}

/** `GET /v1/sources`: the tenant's sources, stored ones over TENANTS ones of the same name, masked. */
export async function getSources(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const stored = (await freshTenantConfiguration(env, request.tenant)).sources;
  const fixed = staticTenant(env, request.tenant)?.sources ?? {};
  const out: Record<string, StoredSource> = {};
  for (const [name, source] of Object.entries(fixed)) out[name] = masked(source);
  for (const [name, source] of stored) out[name] = masked(source);
  return Response.json({ sources: out });
}

/** `PUT /v1/sources/{name}`: sets (replaces) one source; posts to it verify with it at once on this server. */
export async function putSource(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const name = nameOf(request);
  const source = await readRequest(request, env, PutSource, "source");
  if (source.header !== undefined && !signatureScheme(source.scheme)?.defaultHeader) {
    throw new ApiError(400, "invalid_request", "The source is invalid", [{ path: "header", message: `the ${source.scheme} scheme has a fixed signature header` }]);
  }
  const mappingBytes = source.mapping === undefined ? 0 : new TextEncoder().encode(JSON.stringify(source.mapping)).length;
  if (mappingBytes > MAX_MAPPING_BYTES) {
    throw new ApiError(400, "invalid_request", "The source's mapping is too large", [{ path: "mapping", message: `is ${mappingBytes} bytes as JSON; at most ${MAX_MAPPING_BYTES}` }]);
  }
  requireSecretsKey(env, request);
  const stored = await tenantActor(env, request.tenant).putSource(request.space, name, source);
  if (stored === "limit") {
    throw new ApiError(409, "limit_exceeded", `The tenant has as many sources as it may (${deploymentSettings(env).maxSources}, MAX_SOURCES); delete one first`);
  }
  if (!stored) throw staleTenant();
  forgetTenant(request.tenant);
  return Response.json(masked(source));
}

/** `DELETE /v1/sources/{name}`: later posts to it answer `401 invalid_signature`. */
export async function deleteSource(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const deleted = await tenantActor(env, request.tenant).deleteSource(request.space, nameOf(request));
  forgetTenant(request.tenant);
  if (deleted === null) throw staleTenant();
  if (!deleted) throw notFound("source");
  return new Response(null, { status: 204 });
}

/** This file's routes (src/api/source-settings.ts), by name. */
export const sourceSettingHandlers = {
  getSources,
  putSource,
  deleteSource,
} satisfies Handlers<typeof sourceSettingRoutes>;
