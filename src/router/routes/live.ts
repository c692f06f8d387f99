// The live feed's routes: `POST /v1/live/ticket` and `GET /v1/live` (a WebSocket held by the
// tenant's actor; see actors/tenant/watchers.ts and src/live/ticket.ts).
import type { IRequest } from "itty-router";
import { tenantActor } from "../../rpc/actors.ts";
import { authenticate, type AuthedRequest } from "../auth.ts";
import { forgetTenant } from "../../control/runtime.ts";
import { ApiError } from "../../api/errors.ts";
import { INTERNAL, openTicket, TICKET_PROTOCOL_PREFIX, ticketText } from "../../live/ticket.ts";
import { enforceAuthFailureLimit } from "../rate-limit.ts";
import { LIVE_PROTOCOL } from "../../types.ts";
import type { Handlers } from "../register.ts";
import type { liveRoutes } from "../../api/live.ts";

/** `POST /v1/live/ticket`: a single-use ticket (valid ≤ 60 s) to open the live feed as the caller. */
export async function postLiveTicket(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const issued = await tenantActor(env, request.tenant).issueTicket(request.watcher);
  if (!issued) throw new ApiError(401, "unauthorized", "Unknown API key");
  const ticket = await ticketText(env, request.tenant, issued.nonce, issued.expiresAt);
  return Response.json({ ticket, expiresAt: new Date(issued.expiresAt).toISOString() });
}

/**
 * `GET /v1/live`: a WebSocket of the tenant's accepted events and delivery outcomes (JSON
 * messages, see src/live/feed.ts). Opened with a ticket offered as the subprotocol `ticket.{ticket}`
 * beside `edgeflow.live` (browsers, the CLI), or with an Authorization header (other clients).
 * An API key offered as a subprotocol is refused. Registered before the API-key middleware: a
 * ticket is its own authentication.
 */
export async function getLive(request: IRequest, env: Cloudflare.Env): Promise<Response> {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(426, "upgrade_required", "GET /v1/live is a WebSocket; connect with Upgrade: websocket");
  }
  const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "");
  const ticket = offered.find((p) => p.startsWith(TICKET_PROTOCOL_PREFIX))?.slice(TICKET_PROTOCOL_PREFIX.length);
  // The actor gets a request built here: only these headers, never a client's own.
  const headers = new Headers({ upgrade: "websocket" });
  for (const name of ["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions"]) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  if (offered.includes(LIVE_PROTOCOL)) headers.set("sec-websocket-protocol", LIVE_PROTOCOL);
  let tenant: string;
  if (ticket !== undefined) {
    const opened = await openTicket(env, ticket, Date.now());
    if (!opened) {
      await enforceAuthFailureLimit(env, request);
      throw new ApiError(401, "unauthorized", "The ticket is unknown, used or expired; ask POST /v1/live/ticket for another");
    }
    tenant = opened.tenant;
    headers.set(INTERNAL.ticket, opened.nonce);
  } else {
    if (offered.some((p) => p.startsWith("bearer."))) {
      await enforceAuthFailureLimit(env, request);
      throw new ApiError(401, "unauthorized", "An API key is not accepted as a subprotocol; offer a ticket from POST /v1/live/ticket");
    }
    await authenticate(request, env);
    const authed = request as AuthedRequest;
    tenant = authed.tenant;
    headers.set(INTERNAL.watcher, JSON.stringify(authed.watcher));
  }
  request.tenant = tenant;
  const response = await env.TENANT.getByName(tenant).fetch(new Request(request.url, { headers }));
  // This isolate learns at once that someone is watching; others within the cache's TTL.
  if (response.status === 101) forgetTenant(tenant);
  return response;
}

/** This file's routes (src/api/live.ts), by name. */
export const liveHandlers = {
  live: getLive,
  liveTicket: postLiveTicket,
} satisfies Handlers<typeof liveRoutes>;
