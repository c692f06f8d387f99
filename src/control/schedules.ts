// Schedules: a tenant's recurring events (cron or every N seconds, in a time zone). The shapes the
// API takes, and when a schedule fires next. Cron expressions are parsed by croner (no
// dependencies, time zones through Intl), never by hand.
import { Cron } from "croner";
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

/** Why croner refuses a 5- or 6-field expression, or null. */
export function cronProblem(expression: string): string | null {
  const fields = expression.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) return "must have 5 fields (minute first) or 6 (second first)";
  try {
    new Cron(expression, { paused: true });
    return null;
  } catch (err) {
    return `is not a cron expression: ${err instanceof Error ? err.message : String(err)}`.slice(0, 200);
  }
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
