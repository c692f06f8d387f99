// The D1 mirror's schema: the numbered files in migrations/, applied once each and recorded in the
// same `d1_migrations` table `wrangler d1 migrations apply` uses, so either way of applying them
// knows what the other did. Local runs need no set-up step: the database handler applies what is
// missing on its first use in an isolate.
import { addUsage } from "../usage.ts";

/** The migration files, in order: handed over by the Worker's entry (d1-migrations.ts says why). */
let migrations: ReadonlyArray<readonly [name: string, sql: string]> | null = null;

export function provideMigrations(files: ReadonlyArray<readonly [name: string, sql: string]>): void {
  migrations = files;
}

/** wrangler's own table for applied D1 migrations. */
const TRACKING = `CREATE TABLE IF NOT EXISTS d1_migrations(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT UNIQUE,
  applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)`;

const statementsOf = (sql: string): string[] =>
  sql
    .replace(/--.*$/gm, "")
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

let ready: Promise<void> | undefined;

/** Applies the missing migrations, once per isolate; a failure is retried on the next use. */
export function ensureSchema(db: D1Database): Promise<void> {
  ready ??= apply(db).catch((err: unknown) => {
    ready = undefined;
    throw err;
  });
  return ready;
}

async function apply(db: D1Database): Promise<void> {
  const tracked = await db.batch([db.prepare(TRACKING), db.prepare(`SELECT name FROM d1_migrations`)]);
  countRows(tracked);
  const applied = new Set((tracked[1]!.results as Array<{ name: string }>).map((r) => r.name));
  if (!migrations) throw new Error("the D1 migrations were not provided (src/index.ts provides them)");
  for (const [name, sql] of migrations) {
    if (applied.has(name)) continue;
    // Each file and its record in one batch (one transaction). Two isolates racing apply the same
    // idempotent statements; the record is written once.
    countRows(await db.batch([...statementsOf(sql).map((s) => db.prepare(s)), db.prepare(`INSERT OR IGNORE INTO d1_migrations (name) VALUES (?)`).bind(name)]));
  }
}

/** Adds what D1 reports it read and wrote (its result `meta`) to the isolate's usage. */
export function countRows(results: D1Result[]): void {
  for (const { meta } of results) {
    addUsage("d1RowsRead", meta.rows_read ?? 0);
    addUsage("d1RowsWritten", meta.rows_written ?? 0);
  }
}
