// A tenant's schedules, in its own actor: one row each, made on the first schedule. The actor's
// alarm runs the Schedules job, which fires what is due and asks to come back for the soonest next one.
import { ApiError } from "../../src/api/errors.ts";
import { erasedScheduleError, firingEventId, MAX_SCHEDULES, nextFiring, scheduleEntity, type Schedule, type ScheduleChange, type ScheduleSpec } from "../../src/control/schedules.ts";
import { recordId } from "../../src/control/keys.ts";
import { parseEnvelope } from "../../src/events/envelope.ts";
import { offloadPayloads, releaseRefused } from "../../src/payloads.ts";
import { entityActor } from "../../src/rpc/actors.ts";
import type { EntityRef } from "../../src/types.ts";
import type { TenantJob, TenantRoom } from "./room.ts";
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

/** When a firing that could not go (its entity unreachable, or the tenant over its rate limit) is tried again. */
const FIRING_RETRY_MS = 5_000;

/** The tenant's schedules: kept on request, fired from the alarm. */
export class Schedules implements TenantJob {
  readonly store: ScheduleStore;

  constructor(private readonly room: TenantRoom) {
    this.store = new ScheduleStore(room.db);
  }

  /** Stores a new schedule and points the alarm at its first firing; "limit" past MAX_SCHEDULES. */
  async create(space: string, spec: ScheduleSpec): Promise<Schedule | "limit" | null> {
    if (!this.room.writable(space)) return null;
    if (this.store.count() >= MAX_SCHEDULES) return "limit";
    const now = Date.now();
    const schedule: Schedule = { id: recordId("sch"), ...spec, paused: false, nextAt: nextFiring(spec, now), lastFiredAt: null, lastError: null, createdAt: now };
    this.room.transaction(() => this.store.put(schedule));
    if (schedule.nextAt !== null) await this.room.wakeBy(schedule.nextAt);
    return schedule;
  }

  list(): Schedule[] {
    return this.store.list();
  }

  get(id: string): Schedule | null {
    return this.store.get(id);
  }

  /** Pauses, resumes or changes a schedule; its next firing is computed again from now. */
  async update(space: string, id: string, change: ScheduleChange): Promise<Schedule | null> {
    const found = this.room.writable(space) ? this.store.get(id) : null;
    if (!found) return null;
    const now = Date.now();
    const recurrence =
      change.cron !== undefined ? { cron: change.cron, everySeconds: null } : change.everySeconds !== undefined ? { cron: null, everySeconds: change.everySeconds } : {};
    const next: Schedule = { ...found, ...recurrence, ...(change.name !== undefined ? { name: change.name } : {}), ...(change.timezone ? { timezone: change.timezone } : {}), ...(change.event ? { event: change.event } : {}), paused: change.paused ?? found.paused };
    next.nextAt = next.paused ? null : nextFiring(next, now);
    this.room.transaction(() => this.store.put(next));
    if (next.nextAt !== null) await this.room.wakeBy(next.nextAt);
    return next;
  }

  delete(space: string, id: string): boolean {
    return this.room.writable(space) && this.store.delete(id);
  }

  /**
   * Fires the schedules that are due: each sends its event through the same validation as a posted
   * one into the entity its data names, under the id `edgeflow:schedule:{id}:{firingAt}`, so a firing
   * repeated after a crash is a duplicate. A refusal (invalid data, an erased entity) is recorded on
   * the schedule and not retried; a failure to reach the entity is retried in 5 s.
   */
  async run(): Promise<number | null> {
    if (this.room.erasing()) return null;
    const space = this.room.space();
    const now = Date.now();
    const due = this.store.due(now);
    const waiting = new Set<string>();
    for (const schedule of due) {
      const firingAt = schedule.nextAt!;
      let error: string | null = null;
      let erased = false;
      try {
        const event = await parseEnvelope({ id: "schedule", type: schedule.event.type, data: schedule.event.data, occurredAt: firingAt }, { receivedAt: now });
        event.id = firingEventId(schedule.id, firingAt);
        // A firing is a request the tenant makes: it counts against the tenant's rate limit, and
        // waits for the next window when over it (its id is fixed, so it fires once however late).
        if (this.room.env.RATE_LIMITER && !(await this.room.env.RATE_LIMITER.limit({ key: this.room.tenant })).success) {
          waiting.add(schedule.id);
          continue;
        }
        // Large data goes to R2 as a posted event's does (src/payloads.ts); a firing never re-creates an erased entity.
        const offloaded = await offloadPayloads(this.room.env, space, [event]);
        const results = await entityActor(this.room.env, space, event.entity).ingest(this.room.tenant, offloaded, { recreate: false });
        await releaseRefused(this.room.env, offloaded, results);
        const [result] = results;
        if (result?.status === "erased") erased = true;
      } catch (err) {
        if (err instanceof ApiError) {
          error = `${err.code}: ${err.message}${(err.issues ?? []).map((i) => `; ${i.path}: ${i.message}`).join("")}`.slice(0, 500);
        } else {
          this.room.log("warn", "schedule firing not delivered; will retry", { schedule: schedule.id, error: String(err) });
          waiting.add(schedule.id);
          continue;
        }
      }
      this.room.transaction(() => {
        this.store.fired(schedule, firingAt, erased ? erasedScheduleError(scheduleEntity(schedule)) : error, Date.now());
        // An erased entity's schedules pause: no firing knocks on its tombstone again, nor brings it back.
        if (erased) this.store.pauseNaming(scheduleEntity(schedule), erasedScheduleError(scheduleEntity(schedule)));
      });
    }
    const soonest = this.store.soonest(waiting);
    const at = [waiting.size > 0 ? now + FIRING_RETRY_MS : null, soonest, due.length === 20 ? now : null].filter((t): t is number => t !== null);
    return at.length > 0 ? Math.min(...at) : null;
  }
}
