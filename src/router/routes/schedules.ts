// `/v1/schedules`: the tenant's recurring events. Each firing sends its event, with the id
// `edgeflow:schedule:{id}:{firingEpochMs}`, through the same validation as a posted one, into the
// entity its data names (the tenant actor's alarm fires them: actors/tenant-actor.ts).
import type { AuthedRequest } from "../auth.ts";
import { CreateSchedule, intervalProblem, MAX_SCHEDULES, scheduleDataProblem, UpdateSchedule, type Schedule, type ScheduleAnswer } from "../../control/schedules.ts";
import { deploymentSettings } from "../../config.ts";
import { ApiError } from "../../api/errors.ts";
import { parseEnvelope } from "../../events/envelope.ts";
import { tenantActor } from "../../rpc/actors.ts";
import { iso, notFound, readRequest, staleTenant } from "./control-body.ts";
import type { Handlers } from "../register.ts";
import type { scheduleRoutes } from "../../api/schedules.ts";

/** A schedule as the API answers it: times as ISO-8601, exactly one of cron and everySeconds. */
function view(s: Schedule): ScheduleAnswer {
  return {
    id: s.id,
    name: s.name,
    ...(s.cron !== null ? { cron: s.cron } : { everySeconds: s.everySeconds ?? 0 }),
    timezone: s.timezone,
    event: s.event,
    paused: s.paused,
    nextAt: s.nextAt === null ? null : iso(s.nextAt),
    lastFiredAt: s.lastFiredAt === null ? null : iso(s.lastFiredAt),
    lastError: s.lastError,
    createdAt: iso(s.createdAt),
  };
}

/** Exactly one of the two ways to recur. */
function checkRecurrence(cron: string | undefined | null, everySeconds: number | undefined | null): void {
  if ((cron == null) === (everySeconds == null)) {
    throw new ApiError(400, "invalid_request", "A schedule has exactly one of cron and everySeconds", [{ path: "cron", message: "give cron or everySeconds, not both or neither" }]);
  }
}

/** Fires no more often than the deployment allows (SCHEDULE_MIN_INTERVAL_SECONDS). */
function checkInterval(env: Cloudflare.Env, recurrence: { cron?: string | null; everySeconds?: number | null; timezone?: string }): void {
  const problem = intervalProblem(recurrence, deploymentSettings(env).scheduleMinIntervalSeconds);
  if (problem) throw new ApiError(400, "invalid_request", "The schedule would fire too often", [problem]);
}

/** The event a firing would send passes the same checks a posted event does (unknown type: 422), and its data has a bounded size. */
async function checkEvent(event: { type: string; data: Record<string, unknown> }): Promise<void> {
  const tooLarge = scheduleDataProblem(event.data);
  if (tooLarge) throw new ApiError(400, "invalid_request", "The schedule's event data is too large", [tooLarge]);
  try {
    await parseEnvelope({ id: "schedule-check", type: event.type, data: event.data }, { receivedAt: Date.now(), path: "event" });
  } catch (err) {
    if (err instanceof ApiError && err.code === "invalid_event") throw new ApiError(400, "invalid_request", "The schedule's event is invalid", err.issues);
    throw err;
  }
}

const idOf = (request: AuthedRequest): string => request.params.id ?? "";

/** `POST /v1/schedules` → 201 with its first `nextAt`. */
export async function createSchedule(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const input = await readRequest(request, env, CreateSchedule, "schedule");
  checkRecurrence(input.cron, input.everySeconds);
  checkInterval(env, input);
  await checkEvent(input.event);
  const created = await tenantActor(env, request.tenant).createSchedule(request.space, {
    name: input.name ?? null,
    cron: input.cron ?? null,
    everySeconds: input.everySeconds ?? null,
    timezone: input.timezone ?? "UTC",
    event: input.event,
  });
  if (created === "limit") throw new ApiError(409, "limit_exceeded", `The tenant has as many schedules as it may (${MAX_SCHEDULES})`);
  if (!created) throw staleTenant();
  return Response.json(view(created), { status: 201 });
}

/** `GET /v1/schedules`. */
export async function listSchedules(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  return Response.json({ schedules: (await tenantActor(env, request.tenant).listSchedules()).map(view) });
}

/** `GET /v1/schedules/{id}`. */
export async function getSchedule(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const found = await tenantActor(env, request.tenant).getSchedule(idOf(request));
  if (!found) throw notFound("schedule");
  return Response.json(view(found));
}

/** `PATCH /v1/schedules/{id}`: pause or resume, or change what and when. */
export async function updateSchedule(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const change = await readRequest(request, env, UpdateSchedule, "schedule");
  if (change.cron !== undefined && change.everySeconds !== undefined) checkRecurrence(change.cron, change.everySeconds);
  checkInterval(env, change);
  if (change.event) await checkEvent(change.event);
  const updated = await tenantActor(env, request.tenant).updateSchedule(request.space, idOf(request), change);
  if (!updated) throw notFound("schedule");
  return Response.json(view(updated));
}

/** `DELETE /v1/schedules/{id}` → 204. */
export async function deleteSchedule(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  if (!(await tenantActor(env, request.tenant).deleteSchedule(request.space, idOf(request)))) throw notFound("schedule");
  return new Response(null, { status: 204 });
}

/** This file's routes (src/api/schedules.ts), by name. */
export const scheduleHandlers = {
  createSchedule,
  listSchedules,
  getSchedule,
  updateSchedule,
  deleteSchedule,
} satisfies Handlers<typeof scheduleRoutes>;
