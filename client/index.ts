// One typed client of edgeflow's HTTP API for everything that is not the server: the dashboard,
// the CLI, the end-to-end tests and the load scripts. Its methods are made from the route table
// (src/api/), one per route by the route's name, typed by the route's declaration; only the
// declarations are loaded (plain data), never Worker code. The transport is pluggable, so a load
// generator can use keep-alive sockets while a browser uses fetch.
import { API, type Api, type RouteName } from "../src/api/index.ts";
import type { ApiErrorBody } from "../src/api/errors.ts";
import type { PathParams, RouteSpec, RouteTypes } from "../src/api/route.ts";

export type { ApiErrorBody } from "../src/api/errors.ts";
export type { EnvelopeInput, IngestAnswer } from "../src/api/events.ts";
export type { TenantAnswer } from "../src/api/admin.ts";

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

type TypesOf<R> = R extends { readonly types?: RouteTypes<infer A, infer B, infer Q> } ? { answer: A; body: B; query: Q } : never;

/** What a call of route R takes: its path's parameters, its body and query where it has them, extra headers. */
export type ArgsOf<R extends RouteSpec> = PathParams<R["path"]> &
  (TypesOf<R>["body"] extends undefined ? { body?: undefined } : { body: TypesOf<R>["body"] }) &
  (TypesOf<R>["query"] extends undefined ? unknown : { query?: TypesOf<R>["query"] }) & { headers?: Record<string, string> };

/** What route R answers with on success. */
export type AnswerOf<R> = TypesOf<R>["answer"];

/** A call is made with no argument when its route needs none. */
type Call<R extends RouteSpec, T> = {} extends ArgsOf<R> ? (args?: ArgsOf<R>) => Promise<T> : (args: ArgsOf<R>) => Promise<T>;

/** One method per route: its answer on success, an EdgeflowError on a 4xx or 5xx. */
export type ApiMethods = { [K in RouteName]: Call<Api[K], AnswerOf<Api[K]>> };
/** One method per route, whatever the status: for callers that look at the status themselves. */
export type RawMethods = { [K in RouteName]: Call<Api[K], ApiAnswer<AnswerOf<Api[K]> | ApiErrorBody>> };

type AnyArgs = { body?: unknown; query?: Record<string, unknown>; headers?: Record<string, string> } & Record<string, unknown>;

/** The request line of a call: the path with its parameters filled in (encoded), and the query. */
function target(spec: RouteSpec, args: AnyArgs): string {
  const path = spec.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(args[name] ?? "")));
  const pairs = Object.entries(args.query ?? {}).filter((p): p is [string, string | number | boolean] => p[1] !== undefined && p[1] !== null);
  return pairs.length ? `${path}?${new URLSearchParams(pairs.map(([k, v]) => [k, String(v)])).toString()}` : path;
}

export class EdgeflowClient {
  readonly options: ClientOptions;
  /** Every route of the API as a method (src/api/): `client.api.getEntity({ type, id })`. */
  readonly api: ApiMethods;
  /** The same, answering the status and body of any answer. */
  readonly raw: RawMethods;

  constructor(options: ClientOptions) {
    this.options = options;
    const methods = (call: (spec: RouteSpec, args: AnyArgs) => Promise<unknown>) =>
      Object.fromEntries(Object.entries(API).map(([name, spec]: [string, RouteSpec]) => [name, (args: AnyArgs = {}) => call(spec, args)]));
    // Built from the table at run time, one per route: the mapped types say what each takes and answers.
    this.api = methods((spec, args) => this.call(spec.method, target(spec, args), args.body, args.headers)) as unknown as ApiMethods;
    // As above, answering whatever status came.
    this.raw = methods((spec, args) => this.send(spec.method, target(spec, args), args.body, args.headers)) as unknown as RawMethods;
  }

  /** The same server and transport with another key (and tenant). */
  as(key: string, tenant: string | null = null): EdgeflowClient {
    return new EdgeflowClient({ ...this.options, key, tenant });
  }

  /** One request to any path, whatever its status: for tests and tools that send what no route declares. */
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
  async call<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const answer = await this.send<T>(method, path, body, headers);
    if (answer.status >= 400) throw new EdgeflowError(answer.status, answer.body);
    return answer.body;
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
