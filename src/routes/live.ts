import type { AuthedRequest } from "../auth";
import { forgetTenant } from "../control/runtime";
import { ApiError } from "../errors";
import { LIVE_PROTOCOL } from "../types";

/**
 * `GET /v1/live`: a WebSocket of the tenant's accepted events and delivery outcomes as they
 * happen (JSON messages, see src/live.ts), held by the tenant's actor. Browsers cannot set an
 * Authorization header on a WebSocket, so they offer the key as a subprotocol (`bearer.{key}`,
 * beside `edgeflow.live`); see `withProtocolKey`.
 */
export async function getLive(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(426, "upgrade_required", "GET /v1/live is a WebSocket; connect with Upgrade: websocket");
  }
  // A plain Request: the router's is a proxy that fetch() does not take.
  const response = await env.TENANT.getByName(request.tenant).fetch(new Request(request.url, { headers: request.headers }));
  // This isolate learns at once that someone is watching; others within the cache's TTL.
  forgetTenant(request.tenant);
  return response;
}

/**
 * A WebSocket request that offers its key as `bearer.{key}` (and the operator's tenant as
 * `tenant.{name}`) gets them as headers, for `authenticate`.
 */
export function withProtocolKey(request: Request): Request {
  if (request.headers.has("authorization") || new URL(request.url).pathname !== "/v1/live") return request;
  const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
  const key = offered.find((p) => p.startsWith("bearer."))?.slice("bearer.".length);
  if (!key) return request;
  const headers = new Headers(request.headers);
  headers.set("authorization", `Bearer ${key}`);
  // The operator's dashboard, acting as a tenant, names it the same way.
  const tenant = offered.find((p) => p.startsWith("tenant."))?.slice("tenant.".length);
  if (tenant) headers.set("edgeflow-tenant", tenant);
  // The key is not passed on: the actor answers with the feed's protocol only.
  headers.set("sec-websocket-protocol", offered.filter((p) => p === LIVE_PROTOCOL).join(", "));
  return new Request(request, { headers });
}
