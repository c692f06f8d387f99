// What a local server has left on disk, read from its state directory (`--persist-to`): the only
// way to see objects in R2, rows in D1 and bytes in Durable Object storage that no endpoint shows.
// Read-only, beside the running server (SQLite in WAL mode lets a reader in).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

function sqliteFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite")
    .map((name) => join(dir, name));
}

function read<T>(file: string, query: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return query(db);
  } finally {
    db.close();
  }
}

/** Every key in the local R2 bucket `PAYLOADS`, optionally under a prefix. */
export function r2Keys(persistDir: string, prefix = ""): string[] {
  return sqliteFiles(join(persistDir, "v3", "r2", "miniflare-R2BucketObject")).flatMap((file) =>
    read(file, (db) => (db.prepare(`SELECT key FROM _mf_objects WHERE key LIKE ? ORDER BY key`).all(`${prefix}%`) as Array<{ key: string }>).map((r) => r.key)),
  );
}

/** Rows of the local D1 database `DB` for a query (its tables may not exist yet: then none). */
export function d1Rows<T = Record<string, unknown>>(persistDir: string, sql: string, ...params: Array<string | number>): T[] {
  return sqliteFiles(join(persistDir, "v3", "d1", "miniflare-D1DatabaseObject")).flatMap((file) =>
    read(file, (db) => {
      try {
        return db.prepare(sql).all(...params) as T[];
      } catch {
        return [];
      }
    }),
  );
}

/** Whether any Durable Object database of this class (`EntityActor`, …) holds these bytes anywhere in its files. */
export function actorFilesContain(persistDir: string, className: string, needle: string): boolean {
  const dir = join(persistDir, "v3", "do", `edgeflow-${className}`);
  if (!existsSync(dir)) return false;
  // The database and its write-ahead log: a row not yet checkpointed lives in the -wal file.
  return readdirSync(dir).some((name) => name !== "metadata.sqlite" && readFileSync(join(dir, name)).includes(needle));
}
