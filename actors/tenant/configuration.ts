// Changes to the tenant's stored configuration (control.ts keeps it), each refused when the caller's
// view of the tenant is stale (`space`), and held to the tenant's bounds: destinations, endpoints
// (an endpoint that asks for history starts a backfill), sources, handlers paused for every
// entity, settings.
import { deploymentSettings } from "../../src/config.ts";
import type { EndpointInfo, StoredSource } from "../../src/control/model.ts";
import { patched, type SettingsPatch, type TenantSettings } from "../../src/control/settings.ts";
import type { EndpointChange, EndpointInput } from "../../src/rpc/actors.ts";
import { endpointHandlerName } from "../../src/rpc/names.ts";
import type { Backfills } from "./backfills.ts";
import type { WakeWalk } from "./entities.ts";
import type { TenantRoom } from "./room.ts";

export class Configuration {
  constructor(
    private readonly room: TenantRoom,
    private readonly backfills: Backfills,
    private readonly wakeWalk: WakeWalk,
  ) {}

  private get control() {
    return this.room.control;
  }

  async putDestination(space: string, kind: string, value: object): Promise<boolean> {
    if (!this.room.writable(space)) return false;
    await this.control.putDestination(kind, value);
    return true;
  }

  deleteDestination(space: string, kind: string): boolean | null {
    return this.room.writable(space) ? this.control.deleteDestination(kind) : null;
  }

  async createEndpoint(space: string, input: EndpointInput): Promise<(EndpointInfo & { secret: string; backfillId?: string }) | "limit" | null> {
    if (!this.room.writable(space)) return null;
    // Each endpoint is a call per event it takes: a tenant's count is bounded (MAX_ENDPOINTS).
    if (this.control.endpointCount() >= deploymentSettings(this.room.env).maxEndpoints) return "limit";
    const created = await this.control.createEndpoint({ ...input, backfill: input.backfill === true }, Date.now());
    if (!input.backfill) return created;
    // Its cursor starts at each entity's first event; the walk makes every listed entity take it now.
    const started = await this.backfills.start(space, { handler: endpointHandlerName(created.id), mode: "history", eventTypes: null, since: null });
    return typeof started === "object" && started !== null ? { ...created, backfillId: started.id } : created;
  }

  /** A change; re-enabling a disabled endpoint wakes every entity, as a resume does, so what it held drains. */
  async updateEndpoint(space: string, id: string, change: EndpointChange & { backfill?: boolean }): Promise<EndpointInfo | null> {
    if (!this.room.writable(space)) return null;
    const before = this.control.endpoint(id);
    const { backfill: _fixedAtCreation, ...editable } = change;
    let reenabled = false;
    const updated = this.room.transaction(() => {
      const next = this.control.updateEndpoint(id, editable);
      reenabled = before?.status === "disabled" && next?.status === "active";
      if (reenabled) this.wakeWalk.start();
      return next;
    });
    if (reenabled) await this.room.wakeBy(Date.now());
    return updated;
  }

  deleteEndpoint(space: string, id: string): boolean {
    return this.room.writable(space) && this.control.deleteEndpoint(id);
  }

  rotateEndpointSecret(space: string, id: string): Promise<string | null> {
    return this.room.writable(space) ? this.control.rotateEndpointSecret(id) : Promise.resolve(null);
  }

  async putSource(space: string, name: string, value: StoredSource): Promise<boolean | "limit"> {
    if (!this.room.writable(space)) return false;
    // A new name past MAX_SOURCES is refused; a tenant over it (stored before the cap) can still replace and delete.
    const sources = this.control.sourceNames();
    if (!sources.includes(name) && sources.length >= deploymentSettings(this.room.env).maxSources) return "limit";
    await this.control.putSource(name, value);
    return true;
  }

  /** Null: refused; else whether there was one to delete. */
  deleteSource(space: string, name: string): boolean | null {
    return this.room.writable(space) ? this.control.deleteSource(name) : null;
  }

  /**
   * Pauses or resumes a handler for every entity; null when refused (a stale view of the tenant).
   * A resume wakes every entity, a page at a time from the alarm, so their held work drains.
   */
  async setHandlerPaused(space: string, handler: string, paused: boolean): Promise<boolean | null> {
    if (!this.room.writable(space)) return null;
    const changed = this.room.transaction(() => {
      const changed = this.control.setHandlerPaused(handler, paused);
      if (changed && !paused) this.wakeWalk.start();
      return changed;
    });
    if (changed && !paused) await this.room.wakeBy(Date.now());
    return paused;
  }

  /** Applies a PATCH to the settings; null when refused (a stale view of the tenant). */
  updateSettings(space: string, patch: SettingsPatch): TenantSettings | null {
    if (!this.room.writable(space)) return null;
    const next = patched(this.control.settings(), patch);
    this.room.transaction(() => this.control.putSettings(next));
    return next;
  }
}
