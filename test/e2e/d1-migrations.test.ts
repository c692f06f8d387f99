// The D1 mirror's migrations, run by SQLite itself (node:sqlite; D1 is SQLite) over a database laid
// out as earlier releases left it: each file in order, then 0003 again, as a second isolate or
// `wrangler d1 migrations apply` after the handler would.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";

const file = (name: string) => readFileSync(join(import.meta.dirname, "../../migrations", name), "utf8");

describe("D1 migrations", () => {
  it("rebuilds leads and offers WITHOUT ROWID, keeping every row, and running 0003 twice changes nothing", () => {
    const db = new DatabaseSync(":memory:");
    db.exec(file("0001_init.sql"));
    db.exec(file("0002_events_one_index.sql"));
    const lead = db.prepare(`INSERT INTO leads (tenant, id, email, name, status, state, last_event_seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    lead.run("t1", "L-1", "ada@example.com", "Ada", "new", `{"id":"L-1"}`, 3, 100);
    lead.run("t2", "L-1", null, null, null, `{}`, 1, 200);
    db.prepare(`INSERT INTO offers (tenant, id, lead_id, amount, currency, state, last_event_seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run("t1", "O-1", "L-1", 12.5, "EUR", `{}`, 1, 300);
    const rows = () => [db.prepare(`SELECT * FROM leads ORDER BY tenant, id`).all(), db.prepare(`SELECT * FROM offers ORDER BY tenant, id`).all()];
    const before = rows();

    db.exec(file("0003_mirror_tables_without_rowid.sql"));
    expect(rows()).toEqual(before);
    db.exec(file("0003_mirror_tables_without_rowid.sql"));
    expect(rows()).toEqual(before);
    const tables = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string; sql: string }>;
    expect(tables.map((t) => t.name)).toEqual(["events", "leads", "offers"]);
    for (const t of tables.filter((t) => t.name !== "events")) expect(t.sql).toMatch(/WITHOUT ROWID/);
    // The key still refuses a second row for one (tenant, id), so the handler's upsert still upserts.
    expect(() => lead.run("t1", "L-1", null, null, null, `{}`, 4, 400)).toThrow(/UNIQUE|PRIMARY KEY/);
    // The handler's upsert, as src/handlers/database.ts writes it.
    db.prepare(
      `INSERT INTO leads (tenant, id, email, name, status, state, last_event_seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, id) DO UPDATE SET status = excluded.status, last_event_seq = excluded.last_event_seq WHERE excluded.last_event_seq >= leads.last_event_seq`,
    ).run("t1", "L-1", null, null, "won", `{}`, 4, 400);
    expect(db.prepare(`SELECT status, email FROM leads WHERE tenant = 't1' AND id = 'L-1'`).get()).toEqual({ status: "won", email: "ada@example.com" });
  });
});
