// Helpers for the control-plane tests: JSON calls with a key, and reading the D1 mirror's file.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { EdgeflowClient, type ApiAnswer } from "../../src/client.ts";

export const ADMIN = "dev_admin_key";

export type Answer<T = Record<string, unknown>> = ApiAnswer<T>;

/** One JSON request to the server with a bearer key, through the typed client (src/client.ts); any status. */
export function call<T = Record<string, unknown>>(url: string, key: string, method: string, path: string, body?: unknown): Promise<Answer<T>> {
  return new EdgeflowClient({ baseUrl: url, key }).send<T>(method, path, body);
}

/** Creates a stored tenant and one API key for it; returns the key. */
export async function newTenant(url: string, name: string): Promise<string> {
  const admin = new EdgeflowClient({ baseUrl: url, key: ADMIN });
  await admin.createTenant(name);
  return (await admin.createKey(name, "test")).key;
}

/** Rows of a tenant in the D1 mirror's tables, read from the local database files. */
export function d1RowsOf(persistDir: string, tenant: string): number {
  // wrangler dev keeps its local state under v3/ in the --persist-to directory.
  const dir = join(persistDir, "v3", "d1", "miniflare-D1DatabaseObject");
  if (!existsSync(dir)) throw new Error(`no local D1 database under ${persistDir}`);
  let rows = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sqlite"))) {
    const db = new DatabaseSync(join(dir, file), { readOnly: true });
    try {
      for (const table of ["leads", "offers", "events"]) {
        const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table);
        if (exists) rows += Number((db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant = ?`).get(tenant) as { n: number }).n);
      }
    } finally {
      db.close();
    }
  }
  return rows;
}

/** One entity's rows in the D1 mirror (its events, and its state row in `table`), read from the local database files. */
export function d1RowsOfEntity(persistDir: string, tenant: string, entity: { type: string; id: string }, table: string): number {
  const dir = join(persistDir, "v3", "d1", "miniflare-D1DatabaseObject");
  let rows = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sqlite"))) {
    const db = new DatabaseSync(join(dir, file), { readOnly: true });
    try {
      const has = (name: string) => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name);
      if (has("events")) rows += Number((db.prepare(`SELECT COUNT(*) AS n FROM events WHERE tenant = ? AND entity_type = ? AND entity_id = ?`).get(tenant, entity.type, entity.id) as { n: number }).n);
      if (has(table)) rows += Number((db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant = ? AND id = ?`).get(tenant, entity.id) as { n: number }).n);
    } finally {
      db.close();
    }
  }
  return rows;
}
