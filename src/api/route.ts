// One declaration per endpoint: method, path, who may call it, what it takes and what it answers.
// The router registers the table (src/router/register.ts), the OpenAPI document is built from it
// (src/api/openapi.ts), and the typed client's methods are derived from it (client/index.ts), so
// an endpoint is written once. Declarations are plain data: the browser bundle imports them too.

/** An OpenAPI 3.1 (JSON Schema 2020-12) schema. */
export type Schema = Record<string, unknown>;

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * Who may call it: a tenant's API key (or the admin key acting as a tenant), the operator's admin
 * key, either of the two (the route tells them apart), or anyone (the route checks what it needs,
 * such as a provider's signature or a live-feed ticket).
 */
export type Auth = "tenant" | "admin" | "either" | "public";

/** One documented answer: its description, and its JSON schema (none: no body). */
export interface Answer {
  description: string;
  schema?: Schema;
  /** A body that is not JSON (the Prometheus text), by content type. */
  contentType?: string;
}

export interface RouteSpec<P extends string = string> {
  method: Method;
  /** OpenAPI's form: `/v1/entities/{type}/{id}`. */
  path: P;
  auth: Auth;
  summary: string;
  description?: string;
  /** The request body's schema; `optional`: an empty body is allowed too. */
  body?: { schema: Schema; optional?: boolean };
  /** Query parameters by name. */
  query?: Record<string, Schema>;
  /** Request headers it reads, by name. */
  headers?: Record<string, Schema>;
  /** Schemas of path parameters that are not plain strings (an enum), by name. */
  params?: Record<string, Schema>;
  /** Its answers by status, besides those every route of its auth may give (openapi.ts). */
  answers: Record<number, Answer>;
}

/** The types a route carries for its typed client: what it answers, takes as body and as query. */
export interface RouteTypes<A, B, Q> {
  answer: A;
  body: B;
  query: Q;
}

/** A declared route, with its types (phantom: never set, only read by the type checker). */
export type Route<P extends string = string, A = unknown, B = undefined, Q = undefined> = RouteSpec<P> & { readonly types?: RouteTypes<A, B, Q> };

/**
 * Declares a route: `route<Answer, Body, Query>()({ method, path, … })`. The first call names the
 * types, the second takes the data (TypeScript cannot infer the path and take explicit types at once).
 */
export function route<A = unknown, B = undefined, Q = undefined>() {
  return <const P extends string>(spec: RouteSpec<P>): Route<P, A, B, Q> => spec;
}

/** The path parameters a path template names: `/v1/entities/{type}/{id}` → `{ type: string; id: string }`. */
export type PathParams<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? { [K in Name]: string } & PathParams<Rest> : unknown;

/** The names of a path template's parameters, in order. */
export function pathParamNames(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

// Building blocks for schemas and answers, shared by every declaration.
export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
export const str: Schema = { type: "string" };
export const bool: Schema = { type: "boolean" };
export const dateTime: Schema = { type: "string", format: "date-time" };
export const int: Schema = { type: "integer", minimum: 0 };
export const nullable = (schema: Schema): Schema => ({ oneOf: [schema, { type: "null" }] });
export const arrayOf = (items: Schema): Schema => ({ type: "array", items });
/** An object with exactly these properties, all required unless listed in `optional`. */
export function obj(properties: Record<string, Schema>, optional: readonly string[] = [], extra = false): Schema {
  return { type: "object", properties, required: Object.keys(properties).filter((k) => !optional.includes(k)), additionalProperties: extra };
}
export const json = (schema: Schema, description: string): Answer => ({ description, schema });
export const error = (description: string): Answer => ({ description, schema: ref("Error") });
export const noContent: Answer = { description: "Done; no body" };
/** The answers of a route that reads a JSON body. */
export const withBody: Record<number, Answer> = {
  400: error("Invalid JSON or an invalid request"),
  413: error("The body is over MAX_BODY_BYTES"),
  415: error("The body is not application/json"),
};
/** The answer of a route about one entity that was erased on request. */
export const gone = error("Erased (gone)");
