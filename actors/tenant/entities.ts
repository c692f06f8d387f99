// The tenant's list of its entities (each registers from its first accepted event), which
// erasure, backfills and tenant-wide resumes walk a page at a time; and the walk that wakes every
// entity after a handler is resumed for all of them.
import { entityActor } from "../../src/rpc/actors.ts";
import type { EntityRef } from "../../src/types.ts";
import { forEachLimited } from "../shared/limited.ts";
import type { TenantJob, TenantRoom } from "./room.ts";

const ENTITIES = `CREATE TABLE IF NOT EXISTS entities (type TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (type, id)) WITHOUT ROWID`;

/** Entities woken per alarm after a tenant-wide resume, and at once. */
const WAKE_PAGE = 50;
const WAKE_CONCURRENCY = 8;

export class EntityList {
  constructor(private readonly room: TenantRoom) {}

  /** Adds entities to the tenant's list (known ones are left as they are). */
  addEntities(entities: readonly EntityRef[]): void {
    this.room.transaction(() => {
      this.room.db.tables.make("entities", [ENTITIES]);
      let added = 0;
      for (const e of entities) added += this.room.db.all(`INSERT INTO entities (type, id) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING id`, e.type, e.id).length;
      // An entity that turns up while the tenant is being erased is erased too, and counted.
      if (added > 0 && this.room.erasing()) this.room.db.sql`UPDATE tenant_record SET erase_total = erase_total + ${added}`;
    });
  }

  entityCount(): number {
    if (!this.room.db.tables.has("entities")) return 0;
    return Number(this.room.db.all<{ n: number }>(`SELECT COUNT(*) AS n FROM entities`)[0]?.n ?? 0);
  }

  entityPage(limit: number): EntityRef[] {
    if (!this.room.db.tables.has("entities")) return [];
    return this.room.db.all<{ type: string; id: string }>(`SELECT type, id FROM entities ORDER BY type, id LIMIT ?`, limit).map((r) => ({ type: r.type, id: r.id }));
  }

  /** Up to `limit` entities after `after` in (type, id) order: a resumable walk over the list. */
  entitiesAfter(after: EntityRef | null, limit: number): EntityRef[] {
    if (!this.room.db.tables.has("entities")) return [];
    const rows = after
      ? this.room.db.all<{ type: string; id: string }>(`SELECT type, id FROM entities WHERE (type, id) > (?, ?) ORDER BY type, id LIMIT ?`, after.type, after.id, limit)
      : this.room.db.all<{ type: string; id: string }>(`SELECT type, id FROM entities ORDER BY type, id LIMIT ?`, limit);
    return rows.map((r) => ({ type: r.type, id: r.id }));
  }

  /** Where the walk that wakes every entity (after a resume) has got to; undefined when none runs. */
  wakeCursor(): EntityRef | null | undefined {
    if (!this.room.db.tables.has("wake_job")) return undefined;
    const row = this.room.db.all<{ after_type: string | null; after_id: string | null }>(`SELECT after_type, after_id FROM wake_job`)[0];
    if (!row) return undefined;
    return row.after_type === null || row.after_id === null ? null : { type: row.after_type, id: row.after_id };
  }

  /** Starts (or restarts from the top) the walk; moves it on; ends it (null). */
  setWakeCursor(cursor: EntityRef | null | "start"): void {
    this.room.db.tables.make("wake_job", [`CREATE TABLE IF NOT EXISTS wake_job (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), after_type TEXT, after_id TEXT)`]);
    if (cursor === null) this.room.db.sql`DELETE FROM wake_job`;
    else {
      const at = cursor === "start" ? null : cursor;
      this.room.db.sql`INSERT INTO wake_job (singleton, after_type, after_id) VALUES (1, ${at?.type ?? null}, ${at?.id ?? null})
                  ON CONFLICT (singleton) DO UPDATE SET after_type = excluded.after_type, after_id = excluded.after_id`;
    }
  }

  forgetEntities(entities: readonly EntityRef[]): void {
    this.room.transaction(() => {
      for (const e of entities) this.room.db.sql`DELETE FROM entities WHERE type = ${e.type} AND id = ${e.id}`;
    });
  }
}

/** The alarm's job that wakes every entity, a page at a time, after a tenant-wide resume. */
export class WakeWalk implements TenantJob {
  constructor(
    private readonly room: TenantRoom,
    private readonly entities: EntityList,
  ) {}

  /** Starts (or restarts from the top) the walk. Inside a transaction. */
  start(): void {
    this.entities.setWakeCursor("start");
  }

  async run(): Promise<number | null> {
    const cursor = this.entities.wakeCursor();
    if (cursor === undefined) return null;
    const page = this.entities.entitiesAfter(cursor, WAKE_PAGE);
    const space = this.room.space();
    await forEachLimited(page, WAKE_CONCURRENCY, async (entity) => {
      try {
        await entityActor(this.room.env, space, entity).wake();
      } catch (err) {
        // Its held work stays due; its own next alarm or event moves it.
        this.room.log("warn", "entity not woken after a resume", { entity, error: String(err) });
      }
    });
    this.entities.setWakeCursor(page.length < WAKE_PAGE ? null : page[page.length - 1]!);
    return page.length === WAKE_PAGE ? Date.now() : null;
  }
}
