// Helpers for the control-plane tests: JSON calls with a key, and reading the D1 mirror's file.
import { EdgeflowClient, type ApiAnswer } from "../../client/index.ts";
import { d1Rows } from "./local-files.ts";

export const ADMIN = "dev_admin_key";

export type Answer<T = Record<string, unknown>> = ApiAnswer<T>;

/** One JSON request to the server with a bearer key, through the typed client (client/index.ts); any status. */
export function call<T = Record<string, unknown>>(url: string, key: string, method: string, path: string, body?: unknown): Promise<Answer<T>> {
  return new EdgeflowClient({ baseUrl: url, key }).send<T>(method, path, body);
}

/** Creates a stored tenant and one API key for it; returns the key. */
export async function newTenant(url: string, name: string): Promise<string> {
  const admin = new EdgeflowClient({ baseUrl: url, key: ADMIN });
  await admin.api.createTenant({ body: { name } });
  return (await admin.api.createKey({ name, body: { label: "test" } })).key;
}

/** Rows of a tenant in the D1 mirror's tables, read from the local database files. */
export function d1RowsOf(persistDir: string, tenant: string): number {
  return ["leads", "offers", "events"].reduce((sum, table) => sum + countOf(d1Rows(persistDir, `SELECT COUNT(*) AS n FROM ${table} WHERE tenant = ?`, tenant)), 0);
}

/** One entity's rows in the D1 mirror (its events, and its state row in `table`), read from the local database files. */
export function d1RowsOfEntity(persistDir: string, tenant: string, entity: { type: string; id: string }, table: string): number {
  return (
    countOf(d1Rows(persistDir, `SELECT COUNT(*) AS n FROM events WHERE tenant = ? AND entity_type = ? AND entity_id = ?`, tenant, entity.type, entity.id)) +
    countOf(d1Rows(persistDir, `SELECT COUNT(*) AS n FROM ${table} WHERE tenant = ? AND id = ?`, tenant, entity.id))
  );
}

const countOf = (rows: Array<Record<string, unknown>>): number => rows.reduce((sum, r) => sum + Number(r.n ?? 0), 0);
