// A tenant's settings (`GET`/`PATCH /v1/settings`): how long its entities keep their events,
// whether an entity erased on request may be created again by a later event, and whether the D1
// mirror keeps a row per event.
import { boolean, integer, max, min, nullable, object, optional, type Infer } from "superstruct";

export interface TenantSettings {
  /**
   * Events past either window, once every handler has settled them, are compacted away: state
   * stays, and their ids stay known (a digest) so a late repeat is still a duplicate. Null: no limit.
   */
  retention: { days: number | null; eventsPerEntity: number | null };
  /** Whether a new event may create an entity again after `DELETE /v1/entities/{type}/{id}` (default: no, 410 entity_erased). */
  erasure: { allowRecreate: boolean };
  /**
   * What the `database` handler writes to D1 besides each entity's current state (`leads`,
   * `offers`): `events`, a row per event in the D1 `events` table (default: no; the entity's own
   * log has every event, and a row per event is a billed D1 row per event).
   */
  mirror: { events: boolean };
}

export const DEFAULT_SETTINGS: TenantSettings = { retention: { days: null, eventsPerEntity: null }, erasure: { allowRecreate: false }, mirror: { events: false } };

export const PatchSettings = object({
  retention: optional(
    object({
      days: optional(nullable(max(min(integer(), 1), 36_500))),
      eventsPerEntity: optional(nullable(max(min(integer(), 1), 10_000_000))),
    }),
  ),
  erasure: optional(object({ allowRecreate: optional(boolean()) })),
  mirror: optional(object({ events: optional(boolean()) })),
});

export type SettingsPatch = Infer<typeof PatchSettings>;

/** Settings as stored, read with the defaults under them (a release may add fields). */
export function settingsOf(stored: Partial<TenantSettings> | null): TenantSettings {
  return {
    retention: { ...DEFAULT_SETTINGS.retention, ...stored?.retention },
    erasure: { ...DEFAULT_SETTINGS.erasure, ...stored?.erasure },
    mirror: { ...DEFAULT_SETTINGS.mirror, ...stored?.mirror },
  };
}

/** The settings after a PATCH: fields it leaves out keep their value; null clears a limit. */
export function patched(current: TenantSettings, patch: SettingsPatch): TenantSettings {
  const defined = <T extends object>(o: T | undefined) => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined));
  return {
    retention: { ...current.retention, ...defined(patch.retention) },
    erasure: { ...current.erasure, ...defined(patch.erasure) },
    mirror: { ...current.mirror, ...defined(patch.mirror) },
  };
}

/** Whether any retention limit is set. */
export const retains = (s: TenantSettings): boolean => s.retention.days !== null || s.retention.eventsPerEntity !== null;
