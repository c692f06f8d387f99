// The live feed: a ticket, and the WebSocket it opens.
import { arrayOf, bool, dateTime, error, gone, int, json, noContent, nullable, obj, ref, route, str, withBody } from "./route.ts";

export const liveRoutes = {
  live: route<null>()({
    method: "GET",
    path: "/v1/live",
    auth: "public",
    summary:
      "The live feed, as a WebSocket: JSON messages {kind:'event'|'delivery',…} while connected. Open it with a ticket from POST /v1/live/ticket offered as the subprotocol ticket.{ticket} beside edgeflow.live (or an Authorization header); a key offered as a subprotocol is refused. At most 20 watchers per tenant (429 past it). Closed with 4401 when the key that opened it is revoked, 4403 when the admin key changes, 4404 when the tenant is deleted.",
    answers: { 101: { description: "Switching to the WebSocket" }, 401: error("No valid ticket or key"), 426: error("Not a WebSocket upgrade"), 429: error("Too many watchers") },
  }),
  liveTicket: route<{ ticket: string; expiresAt: string }>()({
    method: "POST",
    path: "/v1/live/ticket",
    auth: "tenant",
    summary: "A single-use ticket (valid 60 s, bound to the caller's key) to open the live feed",
    answers: { 200: json(obj({ ticket: str, expiresAt: dateTime }), "The ticket") },
  }),
};
