// What every room of the tenant's actor shares: the actor's state and env, the tenant it is, its
// stored configuration, and the space writes must be addressed to. The actor makes one and hands
// it to each room, so the rooms need nothing of the class.
import { staticTenant } from "../../src/control/tenants-config.ts";
import { currentSpace } from "../../src/control/model.ts";
import { logLine } from "../../src/log.ts";
import { tenantSpace } from "../../src/rpc/names.ts";
import { wakeBy } from "../shared/alarm.ts";
import type { Db } from "../shared/sql.ts";
import type { ControlStore } from "./control.ts";

/** A job of the tenant's alarm: it runs what is due, and answers when to come back (null: nothing left). */
export interface TenantJob {
  run(deadline: number): Promise<number | null>;
}

export class TenantRoom {
  constructor(
    readonly ctx: DurableObjectState,
    readonly env: Cloudflare.Env,
    readonly tenant: string,
    readonly db: Db,
    readonly control: ControlStore,
  ) {}

  /** The tenant's space now: its stored record's incarnation, else its name. */
  space(): string {
    return tenantSpace(this.tenant, this.control.record());
  }

  /** Whether `space` is the tenant's space now (stored, whatever its status, or TENANTS): an entity of another belongs to no tenant here. */
  isCurrentSpace(space: string): boolean {
    return currentSpace(this.tenant, this.control.record(), staticTenant(this.env, this.tenant) !== undefined) === space;
  }

  /** Whether a write addressed to `space` may land: the tenant is active and still the one the caller saw. */
  writable(space: string): boolean {
    return this.control.writableSpace(staticTenant(this.env, this.tenant) !== undefined) === space;
  }

  /** Whether the tenant is being erased (its rooms then do nothing but that). */
  erasing(): boolean {
    return this.control.record()?.status === "erasing";
  }

  /** Makes the alarm fire by `at` (earlier if it already would). */
  wakeBy(at: number): Promise<void> {
    return wakeBy(this.ctx.storage, at, "tenantKvWrites");
  }

  transaction<T>(change: () => T): T {
    return this.ctx.storage.transactionSync(change);
  }

  log(level: "info" | "warn" | "error", msg: string, extra: Record<string, unknown> = {}): void {
    logLine(this.env, level, msg, { tenant: this.tenant, ...extra });
  }
}
