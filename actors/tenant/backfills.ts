// A tenant's backfills, in its own actor: one row each, holding where the walk over the tenant's
// entity list has got to, so a restart resumes at the next page rather than starting again.
import type { Backfill, BackfillSpec } from "../../src/control/backfills.ts";
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
