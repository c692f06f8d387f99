import type { IRequest } from "itty-router";
import { parseJson, readBodyLimited, requireJsonContentType } from "../body";
import { settings, tenantConfig, TENANT_NAME } from "../config";
import { ApiError } from "../errors";
import { enforceRateLimit } from "../rate-limit";
import { parseEnvelope } from "../schemas/envelope";
import { bytesToHex } from "../sources/crypto";
import { toEnvelope } from "../sources/mapping";
import { verifySignature, type SourceConfig } from "../sources/verify";
import { countingRejection, storeEvent } from "./events";

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
  const body = await readBodyLimited(request, settings(env).maxBodyBytes);
  const sources = TENANT_NAME.test(tenant) ? tenantConfig(env, tenant)?.sources : undefined;
  const config = sources && Object.hasOwn(sources, source) ? sources[source] : undefined;
  const verified = await verifySignature(config ?? decoySource(), request.headers, body);
  if (!config || !verified) throw invalidSignature();

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
    // Signed sources belong to TENANTS tenants, whose space is their name.
    return storeEvent(env, { tenant, space: tenant }, event, ctx);
  });
}
