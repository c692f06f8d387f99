import type { IRequest } from "itty-router";
import { tenants } from "./config";
import { ApiError } from "./errors";
import { enforceRateLimit } from "./rate-limit";

/** The request as handlers see it after `authenticate` has run. */
export interface AuthedRequest extends IRequest {
  tenant: string;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/**
 * `before` middleware: resolves the bearer API key to its tenant. When `TENANTS` is unset the
 * built-in demo tenant applies, but only to requests addressed to a loopback host, so a deploy
 * that forgot its TENANTS secret does not open the demo key to the internet.
 */
export async function authenticate(request: IRequest, env: Cloudflare.Env): Promise<void> {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new ApiError(401, "unauthorized", "Missing or malformed Authorization: Bearer <api key>");
  const tenant = tenants(env).keys.get(match[1]!);
  if (!tenant) throw new ApiError(401, "unauthorized", "Unknown API key");
  if (!env.TENANTS && !LOOPBACK.has(new URL(request.url).hostname)) {
    throw new ApiError(401, "unauthorized", "The demo tenant is local-only; configure the TENANTS secret");
  }
  request.tenant = tenant;
  await enforceRateLimit(env, tenant);
}
