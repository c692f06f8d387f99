// Tickets for the live feed: a browser cannot send an Authorization header with a WebSocket, and
// a key offered as a subprotocol would travel in a header that proxies and log pipelines do not
// redact. So a client asks `POST /v1/live/ticket` with its key, and offers the answer as the
// subprotocol `ticket.{ticket}`. A ticket is `{tenant}.{nonce}.{expiresAt}.{mac}`: the tenant's
// actor issued the nonce and spends it on first use (single use, bound to who asked); the MAC,
// under a key derived from SECRETS_KEY, lets the router refuse a forged or expired ticket without
// touching any actor.
import { bytesToHex, hexToBytes } from "../crypto.ts";
import { derivedMacKey } from "../control/secrets.ts";
import { TENANT_NAME } from "../control/tenants-config.ts";

const PURPOSE = "live-ticket";
const encoder = new TextEncoder();

/** Headers the router sets on the request it builds for the tenant's actor; never taken from a client. */
export const INTERNAL = { ticket: "x-edgeflow-ticket-nonce", watcher: "x-edgeflow-watcher" } as const;

/** The subprotocol prefix a ticket is offered under, beside `edgeflow.live`. */
export const TICKET_PROTOCOL_PREFIX = "ticket.";

async function mac(env: Cloudflare.Env, signed: string): Promise<string> {
  return bytesToHex((await crypto.subtle.sign("HMAC", await derivedMacKey(env, PURPOSE), encoder.encode(signed))).slice(0, 16));
}

/** The ticket text for a nonce the tenant's actor issued. */
export async function ticketText(env: Cloudflare.Env, tenant: string, nonce: string, expiresAt: number): Promise<string> {
  const signed = `${tenant}.${nonce}.${expiresAt}`;
  return `${signed}.${await mac(env, signed)}`;
}

/** The tenant and nonce of a ticket this deployment made and that has not expired; null otherwise. */
export async function openTicket(env: Cloudflare.Env, ticket: string, now: number): Promise<{ tenant: string; nonce: string } | null> {
  const parts = ticket.split(".");
  if (parts.length !== 4) return null;
  const [tenant, nonce, expires, tag] = parts as [string, string, string, string];
  if (!TENANT_NAME.test(tenant) || !/^[0-9a-f]{32}$/.test(nonce) || !/^\d{1,15}$/.test(expires) || Number(expires) <= now) return null;
  const given = hexToBytes(tag);
  if (!given || given.length !== 16) return null;
  const key = await derivedMacKey(env, PURPOSE);
  const expected = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`${tenant}.${nonce}.${expires}`))).slice(0, 16);
  // Compared without an early exit.
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= expected[i]! ^ given[i]!;
  return diff === 0 ? { tenant, nonce } : null;
}
