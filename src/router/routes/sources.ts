import type { IRequest } from "itty-router";
import { parseJson, readBodyLimited, requireJsonContentType } from "../body.ts";
import { deploymentSettings } from "../../config.ts";
import { staticTenant, TENANT_NAME } from "../../control/tenants-config.ts";
import { ApiError } from "../../api/errors.ts";
import { enforceRateLimit } from "../rate-limit.ts";
import { parseEnvelope } from "../../events/envelope.ts";
import { bytesToHex } from "../../crypto.ts";
import { toEnvelope } from "../../sources/mapping.ts";
import { verifySignature, type SourceConfig } from "../../sources/verify.ts";
import { isStoredTenant } from "../../control/directory-cache.ts";
import { currentSpace, SIMPLE_NAME } from "../../control/model.ts";
import { tenantConfiguration } from "../../control/runtime.ts";
import { countingRejection, storeEvent } from "./events.ts";
import type { Handlers } from "../register.ts";
import type { sourceRoutes } from "../../api/sources.ts";

// Verified against when the tenant or source does not exist, so that answer costs the same work
// (one HMAC) as a wrong signature and says nothing about which names exist. Made on first use:
// workerd forbids random values at global scope.
let decoy: SourceConfig | undefined;
const decoySource = (): SourceConfig => (decoy ??= { scheme: "standard-webhooks", secret: `whsec_${btoa(crypto.randomUUID())}` });

function invalidSignature(): ApiError {
  return new ApiError(401, "invalid_signature", "The signature is missing or invalid");
}

/**
 * `POST /v1/sources/{tenant}/{source}`: a provider's signed webhook. Size limit, then signature
 * over the raw bytes, then JSON, mapping and the same validation and ingest as `/v1/events`.
 */
export async function postSourceEvent(request: IRequest, env: Cloudflare.Env, ctx: ExecutionContext): Promise<Response> {
  const { tenant, source } = request.params as { tenant: string; source: string };
  const body = await readBodyLimited(request, deploymentSettings(env).maxBodyBytes);
  const found = await findSource(env, tenant, source);
  const config = found?.config;
  const verified = await verifySignature(config ?? decoySource(), request.headers, body);
  if (!found || !config || !verified) throw invalidSignature();

  // Verified: from here on the request is the tenant's (its counts, its rate limit).
  request.tenant = tenant;
  let envelope: unknown;
  return countingRejection(tenant, () => envelope, async () => {
    await enforceRateLimit(env, tenant);
    requireJsonContentType(request);
    const payload = parseJson(body);
    const bodySha256 = bytesToHex(await crypto.subtle.digest("SHA-256", body));
    envelope = toEnvelope(config.scheme, config.mapping, payload, verified, bodySha256);
    const event = await parseEnvelope(envelope, { receivedAt: Date.now() });
    event.source = verified.deliveryId === undefined ? { name: source } : { name: source, deliveryId: verified.deliveryId };
    return storeEvent(env, { tenant, space: found.space }, event, ctx);
  });
}

/**
 * The tenant's source of that name: its stored one (`PUT /v1/sources/{name}`), else the one in
 * TENANTS. A stored tenant is looked up only if the directory lists it (src/control/directory-cache.ts),
 * so a post naming an invented tenant touches no actor.
 */
async function findSource(env: Cloudflare.Env, tenant: string, source: string): Promise<{ config: SourceConfig; space: string } | null> {
  if (!TENANT_NAME.test(tenant)) return null;
  const fixed = staticTenant(env, tenant);
  if (SIMPLE_NAME.test(source) && (fixed || (await isStoredTenant(env, tenant)))) {
    const runtime = await tenantConfiguration(env, tenant);
    const space = currentSpace(tenant, runtime.record, fixed !== undefined);
    const stored = runtime.sources.get(source);
    if (space !== null && runtime.record?.status !== "erasing" && stored) return { config: stored, space };
  }
  const fromConfig = fixed?.sources && Object.hasOwn(fixed.sources, source) ? fixed.sources[source] : undefined;
  return fromConfig ? { config: fromConfig, space: tenant } : null;
}

/** This file's routes (src/api/sources.ts), by name. */
export const sourceHandlers = {
  postSourceEvent,
} satisfies Handlers<typeof sourceRoutes>;
