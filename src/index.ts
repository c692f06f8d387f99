import { logLine } from "./log.ts";
import { AutoRouter, type IRequest } from "itty-router";
import { authenticate, authenticateAdmin, type AuthedRequest } from "./router/auth.ts";
import { ConfigError } from "./config.ts";
import { ApiError } from "./api/errors.ts";
import { API } from "./api/index.ts";
import { errorResponse } from "./router/respond.ts";
import { HANDLERS } from "./router/handlers.ts";
import { registerRoutes } from "./router/register.ts";
import { consumeSlowWork } from "./delivery/consumer.ts";
import { addUsage, takeUsage } from "./usage.ts";
import { flushMetrics } from "./metrics/record.ts";
import { provideMigrations } from "./handlers/d1-schema.ts";
import { D1_MIGRATIONS } from "./handlers/d1-migrations.ts";

// The D1 mirror's schema files, for the database handler to apply on its first use.
provideMigrations(D1_MIGRATIONS);

export { EntityActor } from "../actors/entity-actor.ts";
export { TenantActor } from "../actors/tenant-actor.ts";
export { DirectoryActor } from "../actors/directory-actor.ts";
export { LimiterActor } from "../actors/limiter-actor.ts";

type Args = [Cloudflare.Env, ExecutionContext];

const router = AutoRouter<IRequest, Args>({
  missing: () => errorResponse(new ApiError(404, "not_found", "No such route")),
  catch: (err: unknown, request: IRequest) => {
    if (err instanceof ConfigError) {
      logLine(undefined, "error", "configuration error", { error: err.message });
      return errorResponse(new ApiError(503, "configuration_error", "The service is misconfigured", undefined, { "Retry-After": "60" }));
    }
    return errorResponse(err, request);
  },
  // A tenant's request hands this isolate's counts of that tenant to its actor when they are due
  // (every 10 s at most), after the answer: never in the way of the 202.
  finally: [
    (response: Response, request: IRequest, env: Cloudflare.Env, ctx: ExecutionContext) => {
      const tenant = (request as Partial<AuthedRequest>).tenant;
      if (tenant) ctx.waitUntil(flushMetrics(env, tenant));
      return response;
    },
  ],
});

// Billable units counted in this isolate since the last read, for `npm run cost`. Off unless the
// deployment sets USAGE_ENDPOINT to "1"; reading it is not itself counted, nor documented.
router.get("/_usage", (_request: IRequest, env: Cloudflare.Env) =>
  env.USAGE_ENDPOINT === "1" ? Response.json(takeUsage()) : errorResponse(new ApiError(404, "not_found", "No such route")),
);

// Every route of the API, each with the key its declaration asks for (src/api/, src/router/register.ts).
registerRoutes(router, API, HANDLERS);

// What no route took: an unknown path under /v1 is answered after the key it would need, so a
// caller without one learns nothing of which paths exist.
const noRoute = () => errorResponse(new ApiError(404, "not_found", "No such route"));
router.all("/v1/admin/*", authenticateAdmin, noRoute);
router.all("/v1/*", authenticate, noRoute);

/** Whether every percent-escape in a path decodes: a malformed one names no resource, and must not reach a route. */
function wellFormedPath(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

export default {
  fetch: (request, env, ctx) => {
    const path = new URL(request.url).pathname;
    if (path !== "/_usage") addUsage("workerInvocations");
    if (!wellFormedPath(path)) return errorResponse(new ApiError(400, "invalid_request", "The path holds a malformed percent-escape", [{ path: "path", message: "is not valid percent-encoding" }]));
    return router.fetch(request, env, ctx);
  },
  queue: (batch, env) => {
    addUsage("workerInvocations");
    return consumeSlowWork(batch, env);
  },
} satisfies ExportedHandler<Cloudflare.Env, unknown>;
