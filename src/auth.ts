import type { IRequest } from "itty-router";
import { apiKeyDigest, tenants } from "./config";
import { ApiError } from "./errors";
import { enforceAuthFailureLimit, enforceRateLimit } from "./rate-limit";

/** The request as handlers see it after `authenticate` has run. */
export interface AuthedRequest extends IRequest {
  tenant: string;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/**
 * `before` middleware: resolves the bearer API key to its tenant by the key's SHA-256 digest.
 * When `TENANTS` is unset the built-in demo tenant applies, but only to requests addressed to a
 * loopback host, so a deploy that forgot its TENANTS secret does not open the demo key to the
 * internet. Failed attempts are limited per client address (429 past the limit).
 */
export async function authenticate(request: IRequest, env: Cloudflare.Env): Promise<void> {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return refuse(request, env, "Missing or malformed Authorization: Bearer <api key>");
  const tenant = (await tenants(env).keyDigests).get(await apiKeyDigest(match[1]!));
  if (!tenant) return refuse(request, env, "Unknown API key");
  if (!env.TENANTS && !LOOPBACK.has(new URL(request.url).hostname)) {
    return refuse(request, env, "The demo tenant is local-only; configure the TENANTS secret");
  }
  request.tenant = tenant;
  await enforceRateLimit(env, tenant);
}

async function refuse(request: IRequest, env: Cloudflare.Env, message: string): Promise<never> {
  await enforceAuthFailureLimit(env, request);
  throw new ApiError(401, "unauthorized", message);
}
