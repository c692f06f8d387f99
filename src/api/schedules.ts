// The tenant's recurring events.
import type { ScheduleAnswer } from "../control/schedules.ts";
import { arrayOf, bool, dateTime, error, gone, int, json, noContent, nullable, obj, ref, route, str, withBody } from "./route.ts";

/** What `POST /v1/schedules` takes. */
export interface ScheduleInput {
  name?: string;
  cron?: string;
  everySeconds?: number;
  timezone?: string;
  event: { type: string; data: Record<string, unknown> };
}

export const scheduleRoutes = {
  createSchedule: route<ScheduleAnswer, ScheduleInput>()({
    method: "POST",
    path: "/v1/schedules",
    auth: "tenant",
    summary:
      "A recurring event: cron (5 fields, or 6 with seconds first) or everySeconds, in an IANA time zone (default UTC), no more often than SCHEDULE_MIN_INTERVAL_SECONDS. Each firing sends the event with id edgeflow:schedule:{id}:{firingEpochMs} and occurredAt the firing time, and counts against the tenant's rate limit; a firing missed while the tenant's actor was not running fires once on wake-up",
    body: { schema: ref("ScheduleInput") },
    answers: { 201: json(ref("Schedule"), "Created, with its first nextAt"), 409: error("The tenant has 100 schedules (limit_exceeded)"), 422: error("The event's type is not registered"), ...withBody },
  }),
  listSchedules: route<{ schedules: ScheduleAnswer[] }>()({
    method: "GET",
    path: "/v1/schedules",
    auth: "tenant",
    summary: "The tenant's schedules",
    answers: { 200: json(obj({ schedules: arrayOf(ref("Schedule")) }), "Schedules") },
  }),
  getSchedule: route<ScheduleAnswer>()({
    method: "GET",
    path: "/v1/schedules/{id}",
    auth: "tenant",
    summary: "One schedule",
    answers: { 200: json(ref("Schedule"), "The schedule") },
  }),
  updateSchedule: route<ScheduleAnswer, Partial<ScheduleInput> & { paused?: boolean }>()({
    method: "PATCH",
    path: "/v1/schedules/{id}",
    auth: "tenant",
    summary: "Pause or resume it, or change what and when; nextAt is computed again from now",
    body: { schema: ref("ScheduleChange") },
    answers: { 200: json(ref("Schedule"), "The schedule"), ...withBody },
  }),
  deleteSchedule: route<null>()({
    method: "DELETE",
    path: "/v1/schedules/{id}",
    auth: "tenant",
    summary: "Remove a schedule",
    answers: { 204: noContent },
  }),
};
