import { object, optional, record, size, string } from "superstruct";

/** A signed source's mapping (src/sources/mapping.ts): where the payload's parts are. */
export const SourceMappingSchema = object({
  type: optional(size(string(), 0, 200)),
  types: optional(record(string(), string())),
  data: optional(size(string(), 0, 200)),
  id: optional(size(string(), 0, 200)),
  occurredAt: optional(size(string(), 0, 200)),
});
