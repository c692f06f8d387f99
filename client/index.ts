// One typed client of edgeflow's HTTP API for everything that is not the server: the dashboard,
// the CLI, the end-to-end tests and the load scripts. Its answer types are the server's own
// definitions (type-only imports: nothing of the Worker is loaded), and the transport is
// pluggable, so a load generator can use keep-alive sockets while a browser uses fetch.
import type { Answered, ApiKeyInfo, EndpointAnswer, StoredSource, TenantView } from "../src/control/model.ts";
import type { ScheduleAnswer } from "../src/control/schedules.ts";
import type { BackfillAnswer } from "../src/control/backfills.ts";
import type { SettingsPatch, TenantSettings } from "../src/control/settings.ts";
import type { DeadLetterPage } from "../src/delivery/policy/dead-letters.ts";
import type { EntityExport, EntityRef, EntityView, EventPage, IngestResult } from "../src/types.ts";

/** One HTTP exchange: the client's only contact with the network. */
export type Transport = (request: { method: string; url: string; headers: Record<string, string>; body?: string }) => Promise<{ status: number; text: string }>;

/** The platform's fetch: browsers, Node and workerd alike. */
export const fetchTransport: Transport = async ({ method, url, headers, body }) => {
  const response = await fetch(url, { method, headers, body });
  return { status: response.status, text: await response.text() };
};

/** A status and the parsed JSON body (null for 204; the raw text if it is not JSON). */
export interface ApiAnswer<T> {
  status: number;
  body: T;
}

/** The contract's error body. */
export interface ApiErrorBody {
  error: { code: string; message: string; issues?: Array<{ path: string; message: string }> };
}

/** A 4xx or 5xx answer, with the contract's code, message and issues. */
export class EdgeflowError extends Error {
  override name = "EdgeflowError";
  readonly status: number;
  readonly code: string;
  readonly issues: Array<{ path: string; message: string }>;

  constructor(status: number, body: unknown) {
    const error = (body as Partial<ApiErrorBody> | null)?.error;
    super(error?.message ?? (typeof body === "string" ? body.slice(0, 200) : `HTTP ${status}`));
    this.status = status;
    this.code = error?.code ?? "error";
    this.issues = error?.issues ?? [];
  }
}

export interface ClientOptions {
  /** The server, e.g. `http://localhost:8787`; empty for the page's own origin. */
  baseUrl: string;
  /** A tenant's API key or the admin key. */
  key?: string;
  /** With the admin key: the tenant to act as (sent as `Edgeflow-Tenant`). */
  tenant?: string | null;
  transport?: Transport;
}

/** What `POST /v1/events` takes. */
export interface EnvelopeInput {
  id: string;
  type: string;
  entity?: EntityRef;
  occurredAt?: string | number;
  deliverAt?: string | number;
  data: { id: string } & Record<string, unknown>;
}

export type IngestAnswer = IngestResult | { id: string; entity: EntityRef; status: "scheduled"; deliverAt: string };
type Tenant = TenantView & { keys?: number; entities?: number };
type Query = Record<string, string | number | undefined>;

const seg = encodeURIComponent;
const query = (q: Query) => {
  const pairs = Object.entries(q).filter((p): p is [string, string | number] => p[1] !== undefined);
  return pairs.length ? `?${new URLSearchParams(pairs.map(([k, v]) => [k, String(v)])).toString()}` : "";
};

export class EdgeflowClient {
  readonly options: ClientOptions;

  constructor(options: ClientOptions) {
    this.options = options;
  }

  /** The same server and transport with another key (and tenant). */
  as(key: string, tenant: string | null = null): EdgeflowClient {
    return new EdgeflowClient({ ...this.options, key, tenant });
  }

  /** One request, whatever its status: for callers that look at the status themselves. */
  async send<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer<T>> {
    const { baseUrl, key, tenant, transport = fetchTransport } = this.options;
    const all: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers };
    if (tenant && !path.startsWith("/v1/admin/")) all["edgeflow-tenant"] = tenant;
    let text: string | undefined;
    if (body !== undefined) {
      text = typeof body === "string" ? body : JSON.stringify(body);
      all["content-type"] ??= "application/json";
    }
    const answer = await transport({ method, url: `${baseUrl.replace(/\/+$/, "")}${path}`, headers: all, body: text });
    return { status: answer.status, body: parse(answer.text) as T };
  }

  /** One request whose failure is an error: the parsed body of a 2xx (or 207) answer. */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.send<T>(method, path, body);
    if (answer.status >= 400) throw new EdgeflowError(answer.status, answer.body);
    return answer.body;
  }

  // ─── Events and entities ────────────────────────────────────────────────────────────────────

  postEvent(event: EnvelopeInput, idempotencyKey?: string): Promise<ApiAnswer<IngestAnswer | ApiErrorBody>> {
    return this.send("POST", "/v1/events", event, idempotencyKey ? { "idempotency-key": idempotencyKey } : {});
  }
  postBatch(events: EnvelopeInput[]): Promise<ApiAnswer<{ results: Array<IngestAnswer | ApiErrorBody> }>> {
    return this.send("POST", "/v1/events/batch", { events });
  }
  entity(type: string, id: string): Promise<EntityView> {
    return this.call("GET", `/v1/entities/${seg(type)}/${seg(id)}`);
  }
  events(type: string, id: string, q: { after?: number; limit?: number } = {}): Promise<EventPage> {
    return this.call("GET", `/v1/entities/${seg(type)}/${seg(id)}/events${query(q)}`);
  }
  exportEntity(type: string, id: string): Promise<EntityExport> {
    return this.call("GET", `/v1/entities/${seg(type)}/${seg(id)}/export`);
  }
  eraseEntity(type: string, id: string): Promise<null> {
    return this.call("DELETE", `/v1/entities/${seg(type)}/${seg(id)}`);
  }
  deadLetters(q: { limit?: number; cursor?: string } = {}): Promise<DeadLetterPage> {
    return this.call("GET", `/v1/dead-letters${query(q)}`);
  }
  replayDeadLetters(filter: Record<string, unknown> = {}): Promise<{ replayed: number }> {
    return this.call("POST", "/v1/dead-letters/replay", filter);
  }

  // ─── The tenant's configuration ──────────────────────────────────────────────────────────────

  whoami(): Promise<{ role: "admin" } | { role: "tenant"; tenant: string }> {
    return this.call("GET", "/v1/whoami");
  }
  liveTicket(): Promise<{ ticket: string; expiresAt: string }> {
    return this.call("POST", "/v1/live/ticket");
  }
  destinations(): Promise<{ destinations: Record<string, Record<string, string>> }> {
    return this.call("GET", "/v1/destinations");
  }
  putDestination(kind: string, value: Record<string, string>): Promise<Record<string, string>> {
    return this.call("PUT", `/v1/destinations/${seg(kind)}`, value);
  }
  deleteDestination(kind: string): Promise<null> {
    return this.call("DELETE", `/v1/destinations/${seg(kind)}`);
  }
  endpoints(): Promise<{ endpoints: Array<EndpointAnswer> }> {
    return this.call("GET", "/v1/endpoints");
  }
  createEndpoint(input: { url: string; eventTypes?: string[] | null; description?: string | null; backfill?: boolean }): Promise<EndpointAnswer & { secret: string; backfillId?: string }> {
    return this.call("POST", "/v1/endpoints", input);
  }
  rotateEndpointSecret(id: string): Promise<EndpointAnswer & { secret: string }> {
    return this.call("POST", `/v1/endpoints/${seg(id)}/rotate-secret`);
  }
  deleteEndpoint(id: string): Promise<null> {
    return this.call("DELETE", `/v1/endpoints/${seg(id)}`);
  }
  sources(): Promise<{ sources: Record<string, StoredSource> }> {
    return this.call("GET", "/v1/sources");
  }
  putSource(name: string, source: { scheme: string; secret: string; header?: string; mapping?: object | null }): Promise<StoredSource> {
    return this.call("PUT", `/v1/sources/${seg(name)}`, source);
  }
  deleteSource(name: string): Promise<null> {
    return this.call("DELETE", `/v1/sources/${seg(name)}`);
  }
  handlers(): Promise<{ handlers: Array<{ name: string; paused: boolean }> }> {
    return this.call("GET", "/v1/handlers");
  }
  pauseHandler(handler: string, paused: boolean): Promise<{ handler: string; paused: boolean }> {
    return this.call("POST", `/v1/handlers/${seg(handler)}/${paused ? "pause" : "resume"}`);
  }

  replayEntity(type: string, id: string, input: { handler: string; fromSeq?: number }): Promise<{ replayed: number }> {
    return this.call("POST", `/v1/entities/${seg(type)}/${seg(id)}/replay`, input);
  }
  startBackfill(input: { handler: string; eventTypes?: string[]; since?: string | number }): Promise<BackfillAnswer> {
    return this.call("POST", "/v1/backfills", input);
  }
  backfill(id: string): Promise<BackfillAnswer> {
    return this.call("GET", `/v1/backfills/${seg(id)}`);
  }
  backfills(): Promise<{ backfills: BackfillAnswer[] }> {
    return this.call("GET", "/v1/backfills");
  }

  settings(): Promise<TenantSettings> {
    return this.call("GET", "/v1/settings");
  }
  updateSettings(patch: SettingsPatch): Promise<TenantSettings> {
    return this.call("PATCH", "/v1/settings", patch);
  }

  schedules(): Promise<{ schedules: ScheduleAnswer[] }> {
    return this.call("GET", "/v1/schedules");
  }
  createSchedule(input: { name?: string; cron?: string; everySeconds?: number; timezone?: string; event: { type: string; data: Record<string, unknown> } }): Promise<ScheduleAnswer> {
    return this.call("POST", "/v1/schedules", input);
  }
  schedule(id: string): Promise<ScheduleAnswer> {
    return this.call("GET", `/v1/schedules/${seg(id)}`);
  }
  updateSchedule(id: string, change: { name?: string; paused?: boolean; cron?: string; everySeconds?: number; timezone?: string; event?: { type: string; data: Record<string, unknown> } }): Promise<ScheduleAnswer> {
    return this.call("PATCH", `/v1/schedules/${seg(id)}`, change);
  }
  deleteSchedule(id: string): Promise<null> {
    return this.call("DELETE", `/v1/schedules/${seg(id)}`);
  }

  // ─── The operator's admin API ────────────────────────────────────────────────────────────────

  tenants(): Promise<{ tenants: Tenant[] }> {
    return this.call("GET", "/v1/admin/tenants");
  }
  tenant(name: string): Promise<Tenant> {
    return this.call("GET", `/v1/admin/tenants/${seg(name)}`);
  }
  createTenant(name: string): Promise<Tenant> {
    return this.call("POST", "/v1/admin/tenants", { name });
  }
  deleteTenant(name: string): Promise<Tenant> {
    return this.call("DELETE", `/v1/admin/tenants/${seg(name)}`);
  }
  setInheritDestinations(name: string, inherit: boolean): Promise<Tenant> {
    return this.call("PATCH", `/v1/admin/tenants/${seg(name)}`, { inheritDestinations: inherit });
  }
  keys(tenant: string): Promise<{ keys: Array<Answered<ApiKeyInfo>> }> {
    return this.call("GET", `/v1/admin/tenants/${seg(tenant)}/keys`);
  }
  createKey(tenant: string, label?: string): Promise<Answered<ApiKeyInfo> & { key: string }> {
    return this.call("POST", `/v1/admin/tenants/${seg(tenant)}/keys`, label === undefined ? {} : { label });
  }
  revokeKey(tenant: string, id: string): Promise<null> {
    return this.call("DELETE", `/v1/admin/tenants/${seg(tenant)}/keys/${seg(id)}`);
  }
}

function parse(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
