// The dashboard's only way to the server: the same HTTP API as everyone else, with the key the
// user signed in with (kept in sessionStorage, so closing the tab signs out).

export interface Session {
  key: string;
  /** Set when the key is the admin key: the tenant it acts as (sent as Edgeflow-Tenant). */
  tenant: string | null;
  admin: boolean;
}

const STORE = "edgeflow.session";

export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(STORE);
  return raw ? (JSON.parse(raw) as Session) : null;
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(STORE, JSON.stringify(session));
  else sessionStorage.removeItem(STORE);
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** One JSON call; throws ApiError with the contract's code and message on a 4xx/5xx. */
export async function api<T>(session: Session, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${session.key}` };
  if (session.admin && session.tenant && !path.startsWith("/v1/admin/")) headers["edgeflow-tenant"] = session.tenant;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : null;
  if (!response.ok && response.status !== 207) {
    const error = (parsed as { error?: { code: string; message: string } } | null)?.error;
    throw new ApiError(response.status, error?.code ?? "error", error?.message ?? response.statusText);
  }
  return parsed as T;
}

/**
 * Who a key is, asked of `GET /v1/whoami`: the admin key lists the tenants to act as; a tenant key
 * is its own tenant. One call, so signing in never tries the admin API with a tenant's key.
 */
export async function signIn(key: string): Promise<{ session: Session; tenants: string[] }> {
  const probe: Session = { key, tenant: null, admin: false };
  const who = await api<{ role: "admin" } | { role: "tenant"; tenant: string }>(probe, "GET", "/v1/whoami");
  if (who.role === "tenant") return { session: probe, tenants: [] };
  const asAdmin: Session = { key, tenant: null, admin: true };
  const { tenants } = await api<{ tenants: Array<{ name: string; status: string }> }>(asAdmin, "GET", "/v1/admin/tenants");
  return { session: asAdmin, tenants: tenants.filter((t) => t.status === "active").map((t) => t.name) };
}

/** A single-use ticket for the live feed (offered as the subprotocol `ticket.{ticket}`). */
export async function liveTicket(session: Session): Promise<string> {
  return (await api<{ ticket: string }>(session, "POST", "/v1/live/ticket")).ticket;
}

// The API's answers, typed where the server defines them.
export type { EntityView, EventPage, EventView, LiveMessage, MetricsSummary } from "../src/types.ts";
export type { DeadLetterEntry as DeadLetter, DeadLetterPage } from "../src/dead-letters.ts";
export type { Answered, ApiKeyInfo, EndpointInfo } from "../src/control/model.ts";
