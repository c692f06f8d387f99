// Schedules: a tenant's recurring events (cron or every N seconds, in a time zone). The shapes the
// API takes, and when a schedule fires next. Cron expressions are parsed by croner (no
// dependencies, time zones through Intl), never by hand.
import { Cron } from "croner";
import { entityTypeOf } from "../events/entity-type.ts";
import type { EntityRef } from "../types.ts";
import { boolean, integer, object, optional, refine, size, string, type, type Infer } from "superstruct";

/** Seconds between firings of an `everySeconds` schedule: at least 1, at most a year. */
const EverySeconds = refine(integer(), "everySeconds", (n) => (n >= 1 && n <= 31_536_000) || "must be 1 to 31536000 seconds");
const CronText = refine(size(string(), 1, 200), "cron", (value) => cronProblem(value) ?? true);
const TimeZone = refine(size(string(), 1, 64), "timezone", (value) => (validTimeZone(value) ? true : "must be an IANA time zone, e.g. Europe/Berlin"));
/** The event each firing sends: its type and data (which names the entity, as any event's does). */
const ScheduledEvent = object({ type: size(string(), 1, 100), data: type({ id: size(string(), 1, 128) }) });

export const CreateSchedule = object({
  name: optional(size(string(), 0, 200)),
  cron: optional(CronText),
  everySeconds: optional(EverySeconds),
  timezone: optional(TimeZone),
  event: ScheduledEvent,
});
export type CreateScheduleInput = Infer<typeof CreateSchedule>;

export const UpdateSchedule = object({
  name: optional(size(string(), 0, 200)),
  paused: optional(boolean()),
  cron: optional(CronText),
  everySeconds: optional(EverySeconds),
  timezone: optional(TimeZone),
  event: optional(ScheduledEvent),
});

/** A schedule as stored and answered (times as epoch ms; the route answers them as ISO-8601). */
export interface Schedule {
  id: string;
  name: string | null;
  cron: string | null;
  everySeconds: number | null;
  timezone: string;
  event: { type: string; data: Record<string, unknown> };
  paused: boolean;
  /** When it fires next; null while paused. */
  nextAt: number | null;
  lastFiredAt: number | null;
  /** Why the last firing was refused (validation, an erased entity), or null. */
  lastError: string | null;
  createdAt: number;
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Why croner refuses a 5- or 6-field expression, or why it would never fire; null if neither. */
export function cronProblem(expression: string): string | null {
  const fields = expression.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) return "must have 5 fields (minute first) or 6 (second first)";
  let cron: Cron;
  try {
    cron = new Cron(expression, { paused: true });
  } catch (err) {
    return `is not a cron expression: ${err instanceof Error ? err.message : String(err)}`.slice(0, 200);
  }
  // A date that never comes (30 February): stored, it would sit there firing nothing forever.
  return cron.nextRun() === null ? "never fires (no date matches it)" : null;
}

/** Firings looked at to find a cron's shortest gap: enough to meet every field's step at least once. */
const GAP_SAMPLE = 64;

/**
 * Why a recurrence fires more often than every `minSeconds` (SCHEDULE_MIN_INTERVAL_SECONDS), or
 * null: every firing is an event that costs its tenant rows and calls, so the operator bounds the
 * rate a schedule can make them at.
 */
export function intervalProblem(recurrence: { cron?: string | null; everySeconds?: number | null; timezone?: string }, minSeconds: number): { path: string; message: string } | null {
  if (recurrence.everySeconds != null && recurrence.everySeconds < minSeconds) {
    return { path: "everySeconds", message: `must be at least ${minSeconds} seconds (SCHEDULE_MIN_INTERVAL_SECONDS)` };
  }
  if (recurrence.cron == null) return null;
  const runs = new Cron(recurrence.cron, { paused: true, timezone: recurrence.timezone ?? "UTC" }).nextRuns(GAP_SAMPLE);
  for (let i = 1; i < runs.length; i++) {
    if (runs[i]!.getTime() - runs[i - 1]!.getTime() < minSeconds * 1000) {
      return { path: "cron", message: `fires more often than every ${minSeconds} seconds (SCHEDULE_MIN_INTERVAL_SECONDS)` };
    }
  }
  return null;
}

/** Schedules per tenant: a bound on what one tenant's alarm fires. */
export const MAX_SCHEDULES = 100;

/** Most bytes a schedule's event `data` may hold as JSON: each firing carries it, and the tenant's schedules are listed whole. */
export const MAX_SCHEDULE_DATA_BYTES = 64 * 1024;

/** Why a schedule's event data is too large, or null. */
export function scheduleDataProblem(data: unknown): { path: string; message: string } | null {
  const bytes = new TextEncoder().encode(JSON.stringify(data)).length;
  return bytes > MAX_SCHEDULE_DATA_BYTES ? { path: "event.data", message: `is ${bytes} bytes as JSON; at most ${MAX_SCHEDULE_DATA_BYTES}` } : null;
}

/**
 * When a schedule fires next after `after` (epoch ms), or null if it never will. A firing missed
 * while the tenant's actor was not running is not repeated: the next time is computed from now.
 */
export function nextFiring(schedule: Pick<Schedule, "cron" | "everySeconds" | "timezone">, after: number): number | null {
  if (schedule.everySeconds !== null) return after + schedule.everySeconds * 1000;
  if (schedule.cron === null) return null;
  const next = new Cron(schedule.cron, { paused: true, timezone: schedule.timezone }).nextRun(new Date(after));
  return next ? next.getTime() : null;
}

/** The entity a schedule's event names (its type's entity, and `data.id`), as a posted event's would be derived. */
export function scheduleEntity(schedule: Pick<Schedule, "event">): EntityRef {
  return { type: entityTypeOf(schedule.event.type), id: String(schedule.event.data.id) };
}

/** What a schedule paused because its entity was erased says in `lastError`. */
export function erasedScheduleError(entity: EntityRef): string {
  return `entity_erased: ${entity.type}/${entity.id} was erased; the schedule is paused`;
}

/** The id a firing's event carries: a second delivery of the same firing is a duplicate. */
export function firingEventId(scheduleId: string, firingAt: number): string {
  return `edgeflow:schedule:${scheduleId}:${firingAt}`;
}

/** What a schedule is, apart from where it has got to. */
export type ScheduleSpec = Pick<Schedule, "name" | "cron" | "everySeconds" | "timezone" | "event">;

/** What `PATCH /v1/schedules/{id}` may change. */
export type ScheduleChange = Infer<typeof UpdateSchedule>;

/** A schedule as the API answers it: times as ISO-8601, and only the recurrence it has. */
export type ScheduleAnswer = Omit<Schedule, "cron" | "everySeconds" | "nextAt" | "lastFiredAt" | "createdAt"> & {
  cron?: string;
  everySeconds?: number;
  nextAt: string | null;
  lastFiredAt: string | null;
  createdAt: string;
};
