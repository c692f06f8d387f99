// The API's OpenAPI 3.1 document, served at GET /openapi.json, made from the route table
// (src/api/index.ts) and the component schemas (schemas.ts): nothing in it is written twice.
// `openapi.json` in the repository is this document as JSON (`npm run docs` writes it; a test
// fails when they differ), and the end-to-end tests validate every answer they get against it.
import { handlerTable } from "../handlers/registry.ts";
import { SCHEME_NAMES } from "../sources/schemes.ts";
import { VERSION } from "../version.ts";
import { API, type RouteName } from "./index.ts";
import { error, pathParamNames, str, type Answer, type Auth, type RouteSpec, type Schema } from "./route.ts";
import { SCHEMAS } from "./schemas.ts";

/** What the registries add to a route's description: what reads them changes with no edit here. */
const REGISTRY_NOTES: Partial<Record<RouteName, () => string>> = {
  postEvent: () => `Each type's handlers, in the order they run: ${handlerOrder()}; plus the tenant's endpoints that take the type.`,
  postSourceEvent: () => `Schemes: ${SCHEME_NAMES.join(", ")}.`,
};

/** The answers every route may give, whoever may call it. */
const EVERY_ROUTE: Record<number, Answer> = {
  400: error("A malformed percent-escape in the path (invalid_request)"),
  404: error("No such route or resource"),
  429: error("Rate limited; see Retry-After"),
  503: error("Unavailable; retry after Retry-After"),
};

/** The answers every route of an auth kind may give besides its own. */
const COMMON: Record<Auth, Record<number, Answer>> = {
  tenant: { ...EVERY_ROUTE, 401: error("Missing, malformed or unknown key") },
  admin: { ...EVERY_ROUTE, 401: error("Missing, malformed or unknown admin key"), 429: error("Too many failed authentications; see Retry-After") },
  either: { ...EVERY_ROUTE, 401: error("Missing, malformed or unknown key") },
  public: EVERY_ROUTE,
};

const SECURITY: Record<Auth, unknown[]> = {
  tenant: [{ apiKey: [] }],
  admin: [{ adminKey: [] }],
  either: [{ apiKey: [] }, { adminKey: [] }],
  public: [],
};

/** Which handlers each event type runs, in order: the registry's (src/handlers/registry.ts). */
function handlerOrder(): string {
  return handlerTable()
    .map((row) => `\`${row.type}\`${row.internal ? " (internal)" : ""}: ${row.handlers.join(", ")}`)
    .join("; ");
}

function responses(answers: Record<number, Answer>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(answers).map(([status, a]) => [
      status,
      a.schema === undefined ? { description: a.description } : { description: a.description, content: { [a.contentType ?? "application/json"]: { schema: a.schema } } },
    ]),
  );
}

/** One operation of the document, from its declaration. */
function operation(name: RouteName, spec: RouteSpec): Record<string, unknown> {
  const parameters = [
    ...pathParamNames(spec.path).map((p) => ({ name: p, in: "path", required: true, schema: spec.params?.[p] ?? str })),
    ...Object.entries(spec.query ?? {}).map(([q, schema]) => ({ name: q, in: "query", required: false, schema })),
    ...Object.entries(spec.headers ?? {}).map(([h, schema]) => ({ name: h, in: "header", required: false, schema })),
  ];
  const notes = REGISTRY_NOTES[name]?.();
  const description = [spec.description, notes].filter((d) => d !== undefined).join(" ");
  return {
    operationId: name,
    summary: spec.summary,
    ...(description ? { description } : {}),
    security: SECURITY[spec.auth],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.body ? { requestBody: { required: !spec.body.optional, content: { "application/json": { schema: spec.body.schema } } } } : {}),
    responses: responses({ ...COMMON[spec.auth], ...spec.answers }),
  };
}

/** The document. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, spec] of Object.entries(API) as Array<[RouteName, RouteSpec]>) {
    (paths[spec.path] ??= {})[spec.method.toLowerCase()] = operation(name, spec);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "edgeflow",
      version: VERSION,
      description:
        "Reliable, ordered, effectively-once webhook event pipeline on Cloudflare Workers. Times are ISO-8601; every error is {error:{code,message,issues?}}. Every tenant route also takes the operator's admin key with the header Edgeflow-Tenant: {name}, acting as that tenant (the dashboard's tenant picker); a tenant that does not exist is 404.",
    },
    servers: [{ url: "http://localhost:8787", description: "npm start" }],
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "A tenant's API key" },
        adminKey: { type: "http", scheme: "bearer", description: "The operator's ADMIN_API_KEY" },
      },
    },
    paths,
  };
}

/** Schemas a route may name: for the test that every `ref` resolves. */
export const schemaNames = (): string[] => Object.keys(SCHEMAS);
export type { Schema };
