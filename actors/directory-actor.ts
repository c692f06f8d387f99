import { DurableObject } from "cloudflare:workers";
import type { DirectoryActorRpc, Implementation } from "../src/actors";
import type { TenantRecord, TenantStatus } from "../src/control/model";
import { addUsage } from "../src/usage";
import { Db, TENANT_SQL } from "./sql";

const SCHEMA = [`CREATE TABLE IF NOT EXISTS tenants (name TEXT PRIMARY KEY, status TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID`];

/**
 * The list of stored tenants, for the operator's `GET /v1/admin/tenants` only: one instance for
 * the deployment, which no event, lookup or tenant request ever passes through. Each tenant's own
 * actor is the truth about it; this is its index.
 */
export class DirectoryActor extends DurableObject<Cloudflare.Env> implements Implementation<DirectoryActorRpc> {
  private readonly db: Db;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.db = new Db(ctx.storage.sql, TENANT_SQL);
    // Idempotent DDL that a later change may only add to; this object exists once per deployment.
    this.db.schema(SCHEMA);
  }

  put(record: TenantRecord): void {
    addUsage("tenantRequests");
    this.db.sql`INSERT INTO tenants (name, status, created_at) VALUES (${record.name}, ${record.status}, ${record.createdAt})
                ON CONFLICT (name) DO UPDATE SET status = excluded.status`;
  }

  setStatus(name: string, status: TenantStatus): void {
    addUsage("tenantRequests");
    this.db.sql`UPDATE tenants SET status = ${status} WHERE name = ${name}`;
  }

  remove(name: string): void {
    addUsage("tenantRequests");
    this.db.sql`DELETE FROM tenants WHERE name = ${name}`;
  }

  list(): TenantRecord[] {
    addUsage("tenantRequests");
    return this.db
      .all<{ name: string; status: string; created_at: number }>(`SELECT name, status, created_at FROM tenants ORDER BY name`)
      .map((r) => ({ name: r.name, status: r.status === "erasing" ? "erasing" : "active", createdAt: Number(r.created_at) }));
  }
}
