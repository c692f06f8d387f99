// A tenant's settings (`GET`/`PATCH /v1/settings`): how long its entities keep their events, and
// whether an entity erased on request may be created again by a later event.
import { boolean, integer, max, min, nullable, object, optional, type Infer } from "superstruct";

export interface TenantSettings {
  /**
   * Events past either window, once every handler has settled them, are compacted away: state
   * stays, and their ids stay known (a digest) so a late repeat is still a duplicate. Null: no limit.
   */
  retention: { days: number | null; eventsPerEntity: number | null };
  /** Whether a new event may create an entity again after `DELETE /v1/entities/{type}/{id}` (default: no, 410 entity_erased). */
  erasure: { allowRecreate: boolean };
}

export const DEFAULT_SETTINGS: TenantSettings = { retention: { days: null, eventsPerEntity: null }, erasure: { allowRecreate: false } };

export const PatchSettings = object({
  retention: optional(
    object({
      days: optional(nullable(max(min(integer(), 1), 36_500))),
      eventsPerEntity: optional(nullable(max(min(integer(), 1), 10_000_000))),
    }),
  ),
  erasure: optional(object({ allowRecreate: optional(boolean()) })),
});

export type SettingsPatch = Infer<typeof PatchSettings>;

/** Settings as stored, read with the defaults under them (a release may add fields). */
export function settingsOf(stored: Partial<TenantSettings> | null): TenantSettings {
  return {
    retention: { ...DEFAULT_SETTINGS.retention, ...stored?.retention },
    erasure: { ...DEFAULT_SETTINGS.erasure, ...stored?.erasure },
  };
}

/** The settings after a PATCH: fields it leaves out keep their value; null clears a limit. */
export function patched(current: TenantSettings, patch: SettingsPatch): TenantSettings {
  const defined = <T extends object>(o: T | undefined) => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined));
  return {
    retention: { ...current.retention, ...defined(patch.retention) },
    erasure: { ...current.erasure, ...defined(patch.erasure) },
  };
}

/** Whether any retention limit is set. */
export const retains = (s: TenantSettings): boolean => s.retention.days !== null || s.retention.eventsPerEntity !== null;
