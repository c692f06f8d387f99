// The D1 mirror's migration files (migrations/*.sql, bundled by wrangler as text), in order.
// Imported by the Worker's entry only (src/index.ts hands them to d1-schema.ts): Node (the CLI, the
// dashboard build) loads the handler registry without a loader for .sql, and a Worker that has
// them from its start never loads a module in the middle of a delivery (in the test pool that is a
// fetch over a socket that may already be closing when an alarm outlives its test).
import init from "../../migrations/0001_init.sql";
import eventsOneIndex from "../../migrations/0002_events_one_index.sql";
import withoutRowid from "../../migrations/0003_mirror_tables_without_rowid.sql";

export const D1_MIGRATIONS: ReadonlyArray<readonly [name: string, sql: string]> = [
  ["0001_init.sql", init],
  ["0002_events_one_index.sql", eventsOneIndex],
  ["0003_mirror_tables_without_rowid.sql", withoutRowid],
];
