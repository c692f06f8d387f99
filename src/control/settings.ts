// A tenant's settings (`GET`/`PATCH /v1/settings`), each declared once here: its type, default,
// bounds, how a PATCH is validated, its OpenAPI schema (src/api/schemas.ts), its CLI option
// (`edgeflow settings set`), its dashboard field (dashboard/pages/settings.ts, through the build)
// and its line in the docs all read the declaration. A new setting is one more entry below.
import { boolean, integer, max, min, nullable, object, optional, type Struct } from "superstruct";

/** A number of something, at least `min` and at most `max`, or null for no limit. */
interface LimitSetting {
  kind: "limit";
  min: number;
  max: number;
}

/** On or off; off unless set. */
interface FlagSetting {
  kind: "flag";
}

interface SettingInfo {
  /** Its place in the settings document: `{group: {field: value}}`. */
  group: string;
  field: string;
  /** The dashboard's label for its field. */
  label: string;
  /** What it does, for the API's description, the CLI's help and the docs. */
  describe: string;
  /** The CLI option of `edgeflow settings set` (`--{option}`). */
  option: string;
  /** How a value reads in a sentence (`edgeflow settings show`). */
  show: (value: number | boolean | null) => string;
}

export type SettingDef = SettingInfo & (LimitSetting | FlagSetting);

/** Declares a setting (its literal group and field names make the settings' type). */
export function defineSetting<const S extends SettingDef>(setting: S): S {
  return setting;
}

export const SETTINGS = [
  defineSetting({
    group: "retention",
    field: "days",
    kind: "limit",
    min: 1,
    max: 36_500,
    label: "Keep events for (days; empty: no limit)",
    describe: "events older than this many days that every handler has settled are compacted away (their state stays, their ids still dedupe); null: no limit",
    option: "retention-days",
    show: (v) => (v === null ? "no time limit" : `${String(v)} days`),
  }),
  defineSetting({
    group: "retention",
    field: "eventsPerEntity",
    kind: "limit",
    min: 1,
    max: 10_000_000,
    label: "Keep at most (events per entity; empty: no limit)",
    describe: "an entity keeps at most this many events; older settled ones are compacted away; null: no limit",
    option: "events-per-entity",
    show: (v) => (v === null ? "no count limit" : `${String(v)} events per entity`),
  }),
  defineSetting({
    group: "erasure",
    field: "allowRecreate",
    kind: "flag",
    label: "A new event creates an erased entity again",
    describe: "whether a new event creates an entity again after DELETE /v1/entities/{type}/{id} (off: 410 entity_erased)",
    option: "allow-recreate",
    show: (v) => (v ? "erased entities: a new event creates them again" : "erased entities: stay erased (410 entity_erased)"),
  }),
  defineSetting({
    group: "mirror",
    field: "events",
    kind: "flag",
    label: "The D1 mirror keeps a row per event too",
    describe: "whether the database handler also writes a row per event to the D1 events table (off: each entity's current state only)",
    option: "mirror-events",
    show: (v) => (v ? "D1 mirror: state and a row per event" : "D1 mirror: state only (no row per event)"),
  }),
] as const;

type Declared = (typeof SETTINGS)[number];
type Group = Declared["group"];
type ValueOf<D> = D extends { kind: "limit" } ? number | null : boolean;

/** The settings document, `{group: {field: value}}`, as every setting declares it. */
export type TenantSettings = { [G in Group]: { [D in Extract<Declared, { group: G }> as D["field"]]: ValueOf<D> } };

/** What a PATCH may change: any field of any group; null clears a limit. */
export type SettingsPatch = { [G in Group]?: { [D in Extract<Declared, { group: G }> as D["field"]]?: ValueOf<D> } };

/** Limits are off (null) and flags off (false) until set. */
const defaultOf = (setting: SettingDef): number | boolean | null => (setting.kind === "limit" ? null : false);

const GROUPS = [...new Set(SETTINGS.map((s) => s.group))];
const inGroup = (group: string) => SETTINGS.filter((s) => s.group === group);

/** A document with a value per setting, by group and field. */
function document(valueOf: (setting: SettingDef) => unknown): TenantSettings {
  // Built from the declarations, whose literal names the type is made of.
  return Object.fromEntries(GROUPS.map((g) => [g, Object.fromEntries(inGroup(g).map((s) => [s.field, valueOf(s)]))])) as unknown as TenantSettings;
}

export const DEFAULT_SETTINGS: TenantSettings = document(defaultOf);

/** A setting's validation: its kind and bounds (widened to Struct<unknown> where the group's object is made). */
function valueStruct(setting: SettingDef): Struct<number | null, null> | Struct<boolean, null> {
  return setting.kind === "limit" ? nullable(max(min(integer(), setting.min), setting.max)) : boolean();
}

/** The PATCH body's validation, from the declarations' kinds and bounds. */
export const PatchSettings = object(
  Object.fromEntries(
    GROUPS.map((g) => [g, optional(object(Object.fromEntries(inGroup(g).map((s) => [s.field, optional(valueStruct(s) as Struct<unknown, null>)]))))]),
  ),
  // Made from the declarations, as SettingsPatch is: the same fields, kinds and optionality.
) as unknown as Struct<SettingsPatch>;

/** Settings as stored, read with the defaults under them (a release may add fields). */
export function settingsOf(stored: Partial<Record<string, Record<string, unknown>>> | null): TenantSettings {
  return document((s) => {
    const value = stored?.[s.group]?.[s.field];
    return value === undefined ? defaultOf(s) : value;
  });
}

/** The settings after a PATCH: fields it leaves out keep their value; null clears a limit. */
export function patched(current: TenantSettings, patch: SettingsPatch): TenantSettings {
  const now = current as unknown as Record<string, Record<string, unknown>>;
  // Read by the declarations' own names, which both documents are made of.
  const change = patch as Record<string, Record<string, unknown> | undefined>;
  return document((s) => {
    const value = change[s.group]?.[s.field];
    return value === undefined ? now[s.group]![s.field] : value;
  });
}

/** A setting's value in a document. */
export function settingValue(settings: TenantSettings, setting: SettingDef): number | boolean | null {
  // A document has every declared setting (settingsOf, patched).
  return (settings as unknown as Record<string, Record<string, number | boolean | null>>)[setting.group]![setting.field]!;
}

/** Whether any retention limit is set. */
export const retains = (s: TenantSettings): boolean => s.retention.days !== null || s.retention.eventsPerEntity !== null;
