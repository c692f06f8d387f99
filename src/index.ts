import { logLine } from "./log.ts";
import { AutoRouter, type IRequest } from "itty-router";
import { authenticate, authenticateAdmin, whoami, type AuthedRequest } from "./router/auth.ts";
import { ConfigError } from "./config.ts";
import { ApiError } from "./api/errors.ts";
import { errorResponse } from "./router/respond.ts";
import { openApiDocument } from "./api/openapi.ts";
import { consumeSlowWork } from "./delivery/consumer.ts";
import { addUsage, takeUsage } from "./usage.ts";
import { createKey, createTenant, deleteTenant, getTenant, listKeys, listTenants, revokeKey, updateTenant } from "./router/routes/admin.ts";
import { listDeadLetters, replayDeadLetters } from "./router/routes/dead-letters.ts";
import { getSettings, patchSettings } from "./router/routes/settings.ts";
import { createBackfill, getBackfill, listBackfills, replayEntity } from "./router/routes/backfills.ts";
import { deleteDestination, getDestinations, putDestination } from "./router/routes/destinations.ts";
import { createEndpoint, deleteEndpoint, getEndpoint, listEndpoints, rotateEndpointSecret, updateEndpoint } from "./router/routes/endpoints.ts";
import { cancelScheduled, deleteEntity, exportEntity, getEntity, getEntityEvents, listScheduled } from "./router/routes/entities.ts";
import { cancelEntity, holdEntity, listHandlers, setHandlerPaused } from "./router/routes/pausing.ts";
import { postSourceEvent } from "./router/routes/sources.ts";
import { deleteSource, getSources, putSource } from "./router/routes/source-settings.ts";
import { createSchedule, deleteSchedule, getSchedule, listSchedules, updateSchedule } from "./router/routes/schedules.ts";
import { postBatch, postEvent } from "./router/routes/events.ts";
import { getMetrics, getMetricsSummary } from "./router/routes/metrics.ts";
import { getLive, postLiveTicket } from "./router/routes/live.ts";
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

router.get("/healthz", () => Response.json({ ok: true }));
router.get("/openapi.json", () => Response.json(openApiDocument()));
router.get("/metrics", getMetrics);

// Billable units counted in this isolate since the last read, for `npm run cost`. Off unless the
// deployment sets USAGE_ENDPOINT to "1"; reading it is not itself counted.
router.get("/_usage", (_request: IRequest, env: Cloudflare.Env) =>
  env.USAGE_ENDPOINT === "1" ? Response.json(takeUsage()) : errorResponse(new ApiError(404, "not_found", "No such route")),
);

// Signed by the provider instead of a bearer key; registered before the auth middleware.
router.post("/v1/sources/:tenant/:source", postSourceEvent);

// The operator's API: its own key, and its own 404, so an admin key never meets tenant auth.
router.all("/v1/admin/*", authenticateAdmin);
router.post("/v1/admin/tenants", createTenant);
router.get("/v1/admin/tenants", listTenants);
router.get("/v1/admin/tenants/:name", getTenant);
router.patch("/v1/admin/tenants/:name", updateTenant);
router.delete("/v1/admin/tenants/:name", deleteTenant);
router.post("/v1/admin/tenants/:name/keys", createKey);
router.get("/v1/admin/tenants/:name/keys", listKeys);
router.delete("/v1/admin/tenants/:name/keys/:id", revokeKey);
router.all("/v1/admin/*", () => errorResponse(new ApiError(404, "not_found", "No such route")));

// A ticket (or an Authorization header) authenticates the live feed; see src/router/routes/live.ts.
router.get("/v1/live", getLive);

// Either kind of key: the dashboard's sign-in asks which one it holds.
router.get("/v1/whoami", whoami);

// Everything under /v1 below this line needs a tenant's API key.
router.all("/v1/*", authenticate);

// itty runs `authenticate` first, which sets `tenant`; the handlers then see an AuthedRequest.
const authed =
  (handler: (request: AuthedRequest, env: Cloudflare.Env, ctx: ExecutionContext) => Promise<Response>) =>
  (request: IRequest, env: Cloudflare.Env, ctx: ExecutionContext) =>
    handler(request as AuthedRequest, env, ctx);

router.post("/v1/events", authed(postEvent));
router.post("/v1/events/batch", authed(postBatch));
router.post("/v1/live/ticket", authed(postLiveTicket));
router.get("/v1/metrics", authed(getMetricsSummary));
router.get("/v1/entities/:type/:id", authed(getEntity));
router.get("/v1/entities/:type/:id/events", authed(getEntityEvents));
router.get("/v1/entities/:type/:id/export", authed(exportEntity));
router.get("/v1/entities/:type/:id/scheduled", authed(listScheduled));
router.delete("/v1/entities/:type/:id/scheduled/:eventId", authed(cancelScheduled));
router.delete("/v1/entities/:type/:id", authed(deleteEntity));
router.post("/v1/entities/:type/:id/pause", authed(holdEntity("pause")));
router.post("/v1/entities/:type/:id/resume", authed(holdEntity("resume")));
router.post("/v1/entities/:type/:id/cancel", authed(cancelEntity));
router.post("/v1/entities/:type/:id/replay", authed(replayEntity));
router.post("/v1/backfills", authed(createBackfill));
router.get("/v1/backfills", authed(listBackfills));
router.get("/v1/backfills/:id", authed(getBackfill));
router.get("/v1/settings", authed(getSettings));
router.patch("/v1/settings", authed(patchSettings));
router.get("/v1/handlers", authed(listHandlers));
router.post("/v1/handlers/:handler/pause", authed(setHandlerPaused(true)));
router.post("/v1/handlers/:handler/resume", authed(setHandlerPaused(false)));
router.get("/v1/dead-letters", authed(listDeadLetters));
router.post("/v1/dead-letters/replay", authed(replayDeadLetters));
router.get("/v1/destinations", authed(getDestinations));
router.put("/v1/destinations/:kind", authed(putDestination));
router.delete("/v1/destinations/:kind", authed(deleteDestination));
router.post("/v1/endpoints", authed(createEndpoint));
router.get("/v1/endpoints", authed(listEndpoints));
router.get("/v1/endpoints/:id", authed(getEndpoint));
router.patch("/v1/endpoints/:id", authed(updateEndpoint));
router.delete("/v1/endpoints/:id", authed(deleteEndpoint));
router.post("/v1/endpoints/:id/rotate-secret", authed(rotateEndpointSecret));
router.get("/v1/sources", authed(getSources));
router.put("/v1/sources/:name", authed(putSource));
router.delete("/v1/sources/:name", authed(deleteSource));
router.post("/v1/schedules", authed(createSchedule));
router.get("/v1/schedules", authed(listSchedules));
router.get("/v1/schedules/:id", authed(getSchedule));
router.patch("/v1/schedules/:id", authed(updateSchedule));
router.delete("/v1/schedules/:id", authed(deleteSchedule));

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
