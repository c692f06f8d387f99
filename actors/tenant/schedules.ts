// A tenant's schedules, in its own actor: one row each, made on the first schedule. The actor's
// alarm fires what is due (tenant-actor.ts) and re-arms for the soonest next one.
import { nextFiring, scheduleEntity, type Schedule, type ScheduleSpec } from "../../src/control/schedules.ts";
import type { EntityRef } from "../../src/types.ts";
export { MAX_SCHEDULES } from "../../src/control/schedules.ts";
import type { Db, Row } from "../shared/sql.ts";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS schedules (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    paused INTEGER NOT NULL,
    next_at INTEGER,
    last_fired_at INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID`,
];

interface ScheduleRow extends Row {
  id: string;
  spec: string;
  paused: number;
  next_at: number | null;
  last_fired_at: number | null;
  last_error: string | null;
  created_at: number;
}

/** What a schedule is, as opposed to where it has got to: kept as one JSON column. */
type Spec = ScheduleSpec;


export class ScheduleStore {
  constructor(private readonly db: Db) {}

  list(): Schedule[] {
    if (!this.db.tables.has("schedules")) return [];
    return this.db.all<ScheduleRow>(`SELECT * FROM schedules ORDER BY created_at, id`).map(toSchedule);
  }

  get(id: string): Schedule | null {
    if (!this.db.tables.has("schedules")) return null;
    const row = this.db.all<ScheduleRow>(`SELECT * FROM schedules WHERE id = ?`, id)[0];
    return row ? toSchedule(row) : null;
  }

  count(): number {
    if (!this.db.tables.has("schedules")) return 0;
    return Number(this.db.all<{ n: number }>(`SELECT COUNT(*) AS n FROM schedules`)[0]?.n ?? 0);
  }

  /** Stores a schedule (new, or changed), its next firing computed from `now`. */
  put(schedule: Schedule): void {
    this.db.tables.make("schedules", SCHEMA);
    const spec: Spec = { name: schedule.name, cron: schedule.cron, everySeconds: schedule.everySeconds, timezone: schedule.timezone, event: schedule.event };
    this.db.all(
      `INSERT INTO schedules (id, spec, paused, next_at, last_fired_at, last_error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET spec = excluded.spec, paused = excluded.paused, next_at = excluded.next_at, last_fired_at = excluded.last_fired_at, last_error = excluded.last_error`,
      schedule.id,
      JSON.stringify(spec),
      schedule.paused ? 1 : 0,
      schedule.nextAt,
      schedule.lastFiredAt,
      schedule.lastError,
      schedule.createdAt,
    );
  }

  delete(id: string): boolean {
    if (!this.db.tables.has("schedules")) return false;
    return this.db.all(`DELETE FROM schedules WHERE id = ? RETURNING id`, id).length > 0;
  }

  /** Schedules due at `now`, soonest first. */
  due(now: number): Schedule[] {
    if (!this.db.tables.has("schedules")) return [];
    return this.db.all<ScheduleRow>(`SELECT * FROM schedules WHERE paused = 0 AND next_at IS NOT NULL AND next_at <= ? ORDER BY next_at LIMIT 20`, now).map(toSchedule);
  }

  /** When the soonest schedule fires (leaving out `except`, which wait for a retry), or null. */
  soonest(except: ReadonlySet<string> = new Set()): number | null {
    const times = this.list().flatMap((s) => (!s.paused && s.nextAt !== null && !except.has(s.id) ? [s.nextAt] : []));
    return times.length > 0 ? Math.min(...times) : null;
  }

  /**
   * Pauses every schedule whose event names `entity` (an erased one), saying why: a firing would
   * be refused, or, where the tenant allows re-creation, bring the entity back. How many it paused.
   */
  pauseNaming(entity: EntityRef, reason: string): number {
    let paused = 0;
    for (const schedule of this.list()) {
      const named = scheduleEntity(schedule);
      if (schedule.paused || named.type !== entity.type || named.id !== entity.id) continue;
      this.put({ ...schedule, paused: true, nextAt: null, lastError: reason });
      paused++;
    }
    return paused;
  }

  /** Records a firing at `firedAt` (the time it was due) and moves the schedule to its next one after now. */
  fired(schedule: Schedule, firedAt: number, error: string | null, now: number): void {
    // Missed firings are not repeated: when the next one is already past, it is the first after now.
    let nextAt = nextFiring(schedule, firedAt);
    if (nextAt !== null && nextAt <= now) nextAt = nextFiring(schedule, now);
    this.put({ ...schedule, lastFiredAt: firedAt, lastError: error, nextAt });
  }
}

function toSchedule(row: ScheduleRow): Schedule {
  // Written by put from a validated schedule.
  const spec = JSON.parse(row.spec) as Spec;
  return {
    id: row.id,
    ...spec,
    paused: Number(row.paused) === 1,
    nextAt: row.next_at === null ? null : Number(row.next_at),
    lastFiredAt: row.last_fired_at === null ? null : Number(row.last_fired_at),
    lastError: row.last_error,
    createdAt: Number(row.created_at),
  };
}
