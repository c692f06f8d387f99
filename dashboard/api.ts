// The dashboard's only way to the server: the same HTTP API as everyone else, with the key the
// user signed in with (kept in sessionStorage, so closing the tab signs out), through the one
// typed client every caller uses (client/index.ts).
import { EdgeflowClient, type ApiMethods } from "../client/index.ts";

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

export { EdgeflowError as ApiError } from "../client/index.ts";

/** The typed client (client/index.ts) for a session, on the page's own origin. */
export function clientOf(session: Session): EdgeflowClient {
  return new EdgeflowClient({ baseUrl: "", key: session.key, tenant: session.admin ? session.tenant : null });
}

/** Every route of the API as a method (client/index.ts); each throws ApiError with the contract's code and message on a 4xx/5xx. */
export function api(session: Session): ApiMethods {
  return clientOf(session).api;
}

/**
 * Who a key is, asked of `GET /v1/whoami`: the admin key lists the tenants to act as; a tenant key
 * is its own tenant. One call, so signing in never tries the admin API with a tenant's key.
 */
export async function signIn(key: string): Promise<{ session: Session; tenants: string[] }> {
  const probe: Session = { key, tenant: null, admin: false };
  const who = await api(probe).whoami();
  if (who.role === "tenant") return { session: probe, tenants: [] };
  const asAdmin: Session = { key, tenant: null, admin: true };
  const { tenants } = await api(asAdmin).listTenants();
  return { session: asAdmin, tenants: tenants.filter((t) => t.status === "active").map((t) => t.name) };
}

/** A single-use ticket for the live feed (offered as the subprotocol `ticket.{ticket}`). */
export async function liveTicket(session: Session): Promise<string> {
  return (await api(session).liveTicket()).ticket;
}

// The API's answers, typed where the server defines them.
export type { EntityView, EventPage, EventView, LiveMessage, MetricsSummary } from "../src/types.ts";
export type { DeadLetterEntry as DeadLetter, DeadLetterPage } from "../src/delivery/policy/dead-letters.ts";
export type { Answered, ApiKeyInfo, EndpointAnswer } from "../src/control/model.ts";
