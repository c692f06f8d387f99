// What one tenant can put in the D1 mirror, which every tenant of the deployment shares: a value
// over MIRROR_VALUE_MAX_BYTES is written as the reference to the R2 object the entity keeps it in
// (src/payloads.ts), or as a marker with its size where it has none, and a row whose JSON would
// still pass MIRROR_ROW_MAX_BYTES holds only that marker. The tenant's whole mirror has a budget
// (D1_TENANT_BUDGET_BYTES), measured by its actor; past it, `database` deliveries end `skipped`.
import { PAYLOAD_MARK, type PayloadRef } from "../payload-ref.ts";
import type { JsonObject, JsonValue } from "../types.ts";

/** A value larger than this as JSON is not copied into the mirror. */
export const MIRROR_VALUE_MAX_BYTES = 4 * 1024;
/** The most a mirror row's JSON column holds. */
export const MIRROR_ROW_MAX_BYTES = 64 * 1024;
/** The default of D1_TENANT_BUDGET_BYTES: what one tenant's rows may hold in all. */
export const DEFAULT_TENANT_BUDGET_BYTES = 256 * 1024 * 1024;

/** Stands in the mirror for a value (or a row) too large to copy: its size, to be read from the API. */
export const OMITTED = "$edgeflowOmitted";

const byteLength = (text: string): number => new TextEncoder().encode(text).length;

/** A row's JSON, whole if it fits MIRROR_ROW_MAX_BYTES, else only the marker with its size. */
function bounded(json: string): string {
  const bytes = byteLength(json);
  return bytes <= MIRROR_ROW_MAX_BYTES ? json : JSON.stringify({ [OMITTED]: { bytes } });
}

/**
 * The state as the mirror keeps it: values up to MIRROR_VALUE_MAX_BYTES as they are; a larger one
 * as the entity's own reference to it in R2 (`refs`, the stored form of the values it keeps there),
 * or the marker with its size.
 */
export function mirroredState(state: JsonObject, refs: Readonly<Record<string, JsonValue>> = {}): string {
  const out: JsonObject = {};
  for (const [field, value] of Object.entries(state)) {
    const json = JSON.stringify(value);
    const kept: JsonValue = byteLength(json) <= MIRROR_VALUE_MAX_BYTES ? value : (refs[field] ?? { [OMITTED]: { bytes: byteLength(json) } });
    Object.defineProperty(out, field, { value: kept, enumerable: true, writable: true, configurable: true });
  }
  return bounded(JSON.stringify(out));
}

/** An event's data as the mirror's `events` row keeps it: whole if it fits, else its R2 reference, else the marker. */
export function mirroredData(data: JsonObject, payload: PayloadRef | undefined): string {
  const json = JSON.stringify(data);
  if (byteLength(json) <= MIRROR_ROW_MAX_BYTES) return json;
  return payload ? JSON.stringify({ [PAYLOAD_MARK]: payload }) : bounded(json);
}

/** Text columns of a mirror table (a name, an email): cut to the value bound, so no column carries more than a value may. */
export function mirroredText(value: string | null): string | null {
  if (value === null || byteLength(value) <= MIRROR_VALUE_MAX_BYTES) return value;
  return value.slice(0, MIRROR_VALUE_MAX_BYTES / 4);
}
