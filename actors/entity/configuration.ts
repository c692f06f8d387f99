// The tenant's configuration as one entity's fan-out sees it: which handlers can run here (a
// destination set, a binding present, an endpoint not deleted), which events concern each, which
// are paused, and the cursors of the handlers the configuration makes (customer endpoints).
import { freshTenantConfiguration, tenantConfiguration, type TenantConfiguration } from "../../src/control/runtime.ts";
import { destinationOf, noDestinationReason } from "../../src/handlers/destinations.ts";
import type { Handler } from "../../src/handlers/handler.ts";
import { FAMILIES, familyOf, handlersFor } from "../../src/handlers/registry.ts";
import type { Deliveries } from "./deliveries.ts";
import { isPaused } from "./head.ts";
import type { EntityStore } from "./store.ts";

export class HandlerConfiguration {
  /** The tenant's configuration (destinations, endpoints) as of this turn. */
  private runtime: TenantConfiguration | null = null;
  /** Per handler: why this deployment cannot run it, or null. The env does not change under an instance. */
  private readonly skipReasons = new Map<string, string | null>();

  constructor(
    private readonly store: EntityStore,
    private readonly deliveries: Deliveries,
    private readonly env: () => Cloudflare.Env,
  ) {}

  /** The configuration for a turn (cached in the isolate for a few seconds). */
  async load(): Promise<TenantConfiguration> {
    this.runtime = await tenantConfiguration(this.env(), this.store.existingHead.tenant);
    return this.runtime;
  }

  /**
   * Reads the configuration afresh (into the isolate's cache too): after a resume, the cached copy
   * may still say paused, and what is due is decided from it.
   */
  async reload(): Promise<void> {
    this.runtime = await freshTenantConfiguration(this.env(), this.store.existingHead.tenant);
  }

  /** The configuration as of the last turn; null before the first. */
  get current(): TenantConfiguration | null {
    return this.runtime;
  }

  /** Handlers the tenant pauses for every entity, as of the last turn. */
  tenantPaused(): ReadonlySet<string> {
    return this.runtime?.pausedHandlers ?? new Set();
  }

  /** Whether the entity, or the tenant for every entity, holds this handler's deliveries. */
  paused(name: string): boolean {
    return isPaused(this.store.existingHead, name) || (this.runtime?.pausedHandlers.has(name) ?? false);
  }

  /**
   * Why a handler cannot run for this tenant now, or null: a family member that was deleted, a
   * destination the tenant did not set with no deployment-wide one either, a missing binding.
   */
  unconfigured(handler: Handler): string | null {
    const family = familyOf(handler.name);
    if (family) return this.runtime ? family.unconfigured(handler.name, this.runtime) : null;
    if (handler.destination && this.runtime) {
      if (destinationOf(this.env(), this.runtime, handler.destination)) return null;
      // A stored tenant that does not inherit: the deployment's settings are not what is missing.
      if (this.runtime.record !== null && !this.runtime.record.inheritDestinations) return noDestinationReason(this.runtime, handler.destination);
    }
    let reason = this.skipReasons.get(handler.name);
    if (reason === undefined) {
      reason = handler.unconfigured?.(this.env()) ?? (handler.destination ? `not configured: no ${handler.destination.kind} destination` : null);
      this.skipReasons.set(handler.name, reason);
    }
    return reason;
  }

  /** Whether an event of this type is one for this handler to deliver. */
  concerns(name: string, type: string): boolean {
    const family = familyOf(name);
    if (!family) return handlersFor(type).includes(name);
    // Without a configuration yet, a member takes what it may have to settle.
    return this.runtime ? family.takes(name, type, this.runtime) : true;
  }

  /**
   * Gives each handler the configuration makes (each customer endpoint) a cursor here once this
   * entity has events it must take: those received since the member began. Keeps each cursor's
   * copy of its member's types current, for the delivery views.
   */
  followMembers(): void {
    if (!this.runtime) return;
    const head = this.store.existingHead;
    for (const family of FAMILIES) {
      for (const member of family.members(this.runtime)) {
        const progress = head.progress[member.name];
        if (progress) {
          // Stored as `endpoint` (the field predates families), so heads written before read the same.
          if (progress.endpoint && JSON.stringify(progress.endpoint.types) !== JSON.stringify(member.types)) {
            progress.endpoint = { from: progress.endpoint.from, types: member.types };
            this.store.touch();
          }
          continue;
        }
        const before = this.deliveries.lastSeqBefore(member.since);
        if (before >= head.lastSeq) continue;
        head.progress[member.name] = { through: before, marks: [], endpoint: { from: before, types: member.types } };
        this.store.touch();
      }
    }
  }

  /** Forgets the cursor of a deleted member once its last delivery here is settled. */
  dropDeletedMembers(): void {
    const runtime = this.runtime;
    if (!runtime) return;
    const head = this.store.existingHead;
    const { pending } = this.deliveries.wakeTimes();
    for (const [name, progress] of Object.entries(head.progress)) {
      const family = familyOf(name);
      if (!family || family.unconfigured(name, runtime) === null) continue;
      if (progress.through >= head.lastSeq && !progress.lease && !pending.has(name)) {
        delete head.progress[name];
        this.store.touch();
      }
    }
  }
}
