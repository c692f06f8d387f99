// A tenant's backfills, in its own actor: one row each, holding where the walk over the tenant's
// entity list has got to, so a restart resumes at the next page rather than starting again.
import type { Backfill, BackfillSpec } from "../../src/control/backfills.ts";
import { deploymentSettings } from "../../src/config.ts";
import { recordId } from "../../src/control/keys.ts";
import { entityActor } from "../../src/rpc/actors.ts";
import type { EntityList } from "./entities.ts";
import { forEachLimited } from "../shared/limited.ts";
import type { TenantJob, TenantRoom } from "./room.ts";
import type { EntityRef } from "../../src/types.ts";
import type { Db, Row } from "../shared/sql.ts";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS backfills (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    done INTEGER NOT NULL,
    total INTEGER NOT NULL,
    events INTEGER NOT NULL,
    after_type TEXT,
    after_id TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
  ) WITHOUT ROWID`,
];

interface BackfillRow extends Row {
  id: string;
  spec: string;
  status: string;
  done: number;
  total: number;
  events: number;
  after_type: string | null;
  after_id: string | null;
  created_at: number;
  finished_at: number | null;
}

/** Finished backfills kept for reading; older ones are dropped as new ones start. */
const KEEP_FINISHED = 50;
/** Backfills running at once per tenant: a bound on what one tenant's alarm walks. */
export const MAX_RUNNING = 10;

export class BackfillStore {
  constructor(private readonly db: Db) {}

  get(id: string): Backfill | null {
    if (!this.db.tables.has("backfills")) return null;
    const row = this.db.all<BackfillRow>(`SELECT * FROM backfills WHERE id = ?`, id)[0];
    return row ? toBackfill(row) : null;
  }

  list(): Backfill[] {
    if (!this.db.tables.has("backfills")) return [];
    return this.db.all<BackfillRow>(`SELECT * FROM backfills ORDER BY created_at DESC, id LIMIT ?`, KEEP_FINISHED + MAX_RUNNING).map(toBackfill);
  }

  running(): Backfill[] {
    if (!this.db.tables.has("backfills")) return [];
    return this.db.all<BackfillRow>(`SELECT * FROM backfills WHERE status = 'running' ORDER BY created_at, id`).map(toBackfill);
  }

  /** Where a running backfill's walk resumes: after this entity (null: from the start). */
  cursor(id: string): EntityRef | null {
    const row = this.db.all<BackfillRow>(`SELECT after_type, after_id FROM backfills WHERE id = ?`, id)[0];
    return row?.after_type != null && row.after_id != null ? { type: row.after_type, id: row.after_id } : null;
  }

  /** Starts a backfill over `total` listed entities; call inside a transaction. */
  create(id: string, spec: BackfillSpec, total: number, now: number): Backfill {
    this.db.tables.make("backfills", SCHEMA);
    this.db.sql`INSERT INTO backfills (id, spec, status, done, total, events, created_at) VALUES (${id}, ${JSON.stringify(spec)}, 'running', 0, ${total}, 0, ${now})`;
    this.db.sql`DELETE FROM backfills WHERE status = 'done' AND id NOT IN (SELECT id FROM backfills WHERE status = 'done' ORDER BY finished_at DESC LIMIT ${KEEP_FINISHED})`;
    return this.get(id)!;
  }

  /** Records a page walked: `after` is its last entity, or null when the list is exhausted. */
  advance(id: string, after: EntityRef | null, entities: number, events: number, now: number): void {
    if (after === null) {
      this.db.sql`UPDATE backfills SET status = 'done', done = done + ${entities}, events = events + ${events}, after_type = NULL, after_id = NULL, finished_at = ${now} WHERE id = ${id}`;
    } else {
      this.db.sql`UPDATE backfills SET done = done + ${entities}, events = events + ${events}, after_type = ${after.type}, after_id = ${after.id} WHERE id = ${id}`;
    }
  }
}

function toBackfill(row: BackfillRow): Backfill {
  // Written by create() from a BackfillSpec.
  const spec = JSON.parse(row.spec) as BackfillSpec;
  return {
    ...spec,
    id: row.id,
    status: row.status === "done" ? "done" : "running",
    done: Number(row.done),
    total: Number(row.total),
    events: Number(row.events),
    createdAt: Number(row.created_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
  };
}

/** Entities a backfill walks per page at most, and calls at once. */
const BACKFILL_PAGE = 100;
const BACKFILL_CONCURRENCY = 8;

/** The tenant's backfills: started on request, walked from the alarm. */
export class Backfills implements TenantJob {
  readonly store: BackfillStore;

  constructor(
    private readonly room: TenantRoom,
    private readonly entities: EntityList,
  ) {
    this.store = new BackfillStore(room.db);
  }

  /**
   * Starts walking every listed entity for one handler (see BackfillMode), from the alarm a page at
   * a time, resumable after a restart. At most MAX_RUNNING at once per tenant.
   */
  async start(space: string, spec: BackfillSpec): Promise<Backfill | "limit" | null> {
    if (!this.room.writable(space)) return null;
    if (this.store.running().length >= MAX_RUNNING) return "limit";
    const backfill = this.room.transaction(() => this.store.create(recordId("bf"), spec, this.entities.entityCount(), Date.now()));
    await this.room.wakeBy(Date.now());
    return backfill;
  }

  /**
   * Walks the running backfills a page of entities at a time (8 entity calls in flight), no faster
   * than BACKFILL_RATE entities a second each, until the alarm's budget is spent. Answers when to
   * come back (null: nothing left). A page that keeps failing is walked again later: its entities
   * that were done re-deliver under the same idempotency keys.
   */
  async run(deadline: number): Promise<number | null> {
    if (this.room.erasing()) return null;
    const space = this.room.space();
    const rate = deploymentSettings(this.room.env).backfillRate;
    const pageSize = Math.min(BACKFILL_PAGE, rate);
    let resumeAt: number | null = null;
    for (const backfill of this.store.running()) {
      const filter = { fromSeq: 1, ...(backfill.eventTypes ? { eventTypes: backfill.eventTypes } : {}), ...(backfill.since !== null ? { since: backfill.since } : {}) };
      for (;;) {
        const pageStart = Date.now();
        const page = this.entities.entitiesAfter(this.store.cursor(backfill.id), pageSize);
        let events = 0;
        // Entities whose call failed are called again (3 tries) before the page counts as walked:
        // walking the page again would re-deliver what its other entities already replayed.
        let left = page;
        for (let attempt = 1; left.length > 0 && attempt <= 3; attempt++) {
          const failed: EntityRef[] = [];
          await forEachLimited(left, BACKFILL_CONCURRENCY, async (entity) => {
            try {
              const actor = entityActor(this.room.env, space, entity);
              // Awaited before the sum: `events += await …` would read events before the call and lose its siblings' counts.
              const handed = backfill.mode === "history" ? await actor.followHandler(backfill.handler) : await actor.replayHandler(backfill.handler, filter);
              events += handed ?? 0;
            } catch (err) {
              failed.push(entity);
              this.room.log("warn", "backfill call failed", { backfill: backfill.id, entity, attempt, error: String(err) });
            }
          });
          left = failed;
        }
        if (left.length > 0) {
          // The page is walked again later: its entities that were done re-deliver under the same keys.
          resumeAt = Math.min(resumeAt ?? Infinity, Date.now() + 5_000);
          break;
        }
        const last = page.length < pageSize ? null : page[page.length - 1]!;
        this.room.transaction(() => this.store.advance(backfill.id, last, page.length, events, Date.now()));
        if (last === null) {
          this.room.log("info", "backfill done", { backfill: backfill.id, handler: backfill.handler });
          break;
        }
        // The next page may start once this one has had its share of a second at the rate.
        const paced = pageStart + (page.length * 1000) / rate;
        if (paced > Date.now() + 50 || Date.now() > deadline) {
          resumeAt = Math.min(resumeAt ?? Infinity, Math.max(paced, Date.now()));
          break;
        }
      }
    }
    return resumeAt;
  }
}
