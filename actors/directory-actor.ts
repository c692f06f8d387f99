import { DurableObject } from "cloudflare:workers";
import type { DirectoryActorRpc, DirectoryEntry, Implementation } from "../src/rpc/actors.ts";
import type { TenantStatus } from "../src/control/model.ts";
import { addUsage } from "../src/usage.ts";
import { Db, TENANT_SQL } from "./shared/sql.ts";

// legacy_keys: the tenant was stored before API keys carried a tag (0.4 and earlier), so keys
// without one may still be its own. New deployments create the column defaulting to 0; a table
// from before gains it defaulting to 1, which marks exactly the tenants stored back then.
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS tenants (name TEXT PRIMARY KEY, status TEXT NOT NULL, created_at INTEGER NOT NULL, legacy_keys INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID`,
];
const UPGRADE = `ALTER TABLE tenants ADD COLUMN legacy_keys INTEGER NOT NULL DEFAULT 1`;

/**
 * The list of stored tenants, for the operator's `GET /v1/admin/tenants`, and the few tenants
 * whose untagged (pre-0.5) keys the router may still look up: one instance for the deployment,
 * which no event or tenant request passes through (the router reads the legacy list at most once
 * a minute per isolate). Each tenant's own actor is the truth about it; this is its index.
 */
export class DirectoryActor extends DurableObject<Cloudflare.Env> implements Implementation<DirectoryActorRpc> {
  private readonly db: Db;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.db = new Db(ctx.storage.sql, TENANT_SQL);
    // Idempotent DDL that a later change may only add to; this object exists once per deployment.
    ctx.storage.transactionSync(() => {
      const existed = this.db.tables.has("tenants");
      this.db.schema(SCHEMA);
      const columns = this.db.all<{ name: string }>(`SELECT name FROM pragma_table_info('tenants')`).map((r) => r.name);
      if (existed && !columns.includes("legacy_keys")) this.db.schema([UPGRADE]);
    });
  }

  put(record: DirectoryEntry): void {
    this.db.sql`INSERT INTO tenants (name, status, created_at, legacy_keys) VALUES (${record.name}, ${record.status}, ${record.createdAt}, 0)
                ON CONFLICT (name) DO UPDATE SET status = excluded.status, created_at = excluded.created_at, legacy_keys = 0`;
  }

  setStatus(name: string, status: TenantStatus): void {
    this.db.sql`UPDATE tenants SET status = ${status} WHERE name = ${name}`;
  }

  remove(name: string): void {
    this.db.sql`DELETE FROM tenants WHERE name = ${name}`;
  }

  list(): DirectoryEntry[] {
    return this.db
      .all<{ name: string; status: string; created_at: number }>(`SELECT name, status, created_at FROM tenants ORDER BY name`)
      .map((r) => ({ name: r.name, status: r.status === "erasing" ? "erasing" : "active", createdAt: Number(r.created_at) }));
  }

  legacyKeyTenants(): string[] {
    return this.db.all<{ name: string }>(`SELECT name FROM tenants WHERE legacy_keys = 1 AND status = 'active'`).map((r) => r.name);
  }
}
