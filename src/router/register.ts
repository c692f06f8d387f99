// Registers the route table (src/api/index.ts) on the itty router: each route with the
// authentication its declaration names, in front of its handler. A route without a handler, or a
// handler without a route, fails `tsc` (Handlers below).
import type { IRequest } from "itty-router";
import type { Api, RouteName } from "../api/index.ts";
import type { Auth, RouteSpec } from "../api/route.ts";
import { authenticate, authenticateAdmin, type AuthedRequest } from "./auth.ts";

/** What a route's handler is given: for tenant routes, a request `authenticate` has run on. */
export type RouteHandler = (request: AuthedRequest, env: Cloudflare.Env, ctx: ExecutionContext) => Promise<Response> | Response;

/** One handler per route of the table, by the route's name. */
export type Handlers<T> = { [K in keyof T]: RouteHandler };

type Middleware = (request: IRequest, env: Cloudflare.Env) => Promise<void>;

/** What runs before a route's handler: the key its declaration asks for. */
const BEFORE: Record<Auth, Middleware[]> = {
  tenant: [authenticate],
  admin: [authenticateAdmin],
  // These read the key themselves (a tenant's or the operator's: /metrics, /v1/whoami), or need
  // none (a provider's signature, a live-feed ticket, liveness).
  either: [],
  public: [],
};

/** itty's form of an OpenAPI path: `{id}` → `:id`. */
export const ittyPath = (path: string): string => path.replace(/\{(\w+)\}/g, ":$1");

/** The part of itty's router this needs: one method per HTTP verb. */
type Step = (request: IRequest, env: Cloudflare.Env, ctx: ExecutionContext) => unknown;
export type RouteRegistry = Record<"get" | "post" | "put" | "patch" | "delete", (path: string, ...steps: Step[]) => unknown>;

export function registerRoutes(router: RouteRegistry, api: Api, handlers: Handlers<Api>): void {
  for (const [name, spec] of Object.entries(api) as Array<[RouteName, RouteSpec]>) {
    const handler = handlers[name];
    // itty hands every route the request it authenticated; tenant routes read what `authenticate` set.
    const run = (request: IRequest, env: Cloudflare.Env, ctx: ExecutionContext) => handler(request as AuthedRequest, env, ctx);
    router[spec.method.toLowerCase() as Lowercase<RouteSpec["method"]>](ittyPath(spec.path), ...BEFORE[spec.auth], run);
  }
}
