import { object, optional, record, size, string } from "superstruct";

/** A signed source's mapping (src/sources/mapping.ts): where the payload's parts are. */
export const SourceMappingSchema = object({
  type: optional(size(string(), 0, 200)),
  types: optional(record(string(), string())),
  data: optional(size(string(), 0, 200)),
  id: optional(size(string(), 0, 200)),
  occurredAt: optional(size(string(), 0, 200)),
});

/**
 * Most bytes a source's mapping may hold as JSON. The tenant's configuration travels whole to every
 * router that looks it up, in one RPC (at most 32 MiB), so each part of it is bounded.
 */
export const MAX_MAPPING_BYTES = 64 * 1024;
