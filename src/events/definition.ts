import { validate, type Struct, type StructError } from "superstruct";
import type { HandlerName } from "../handlers/registry";

/** What every event type's `data` has in common: the id its entity is derived from. */
export type EventData = { id: string } & Record<string, unknown>;

/** Everything edgeflow knows about one event type. One file per type, one line in the registry. */
export interface EventDefinition {
  type: string;
  /** Validates `data`; extra fields are allowed and kept. */
  validateData(value: unknown): [StructError, undefined] | [undefined, EventData];
  /** Handler names, in the order the contract lists them. */
  handlers: readonly HandlerName[];
  /** Emitted by edgeflow itself; clients cannot post it. */
  internal?: boolean;
}

/** Builds an `EventDefinition` from a superstruct schema for its `data`. */
export function defineEvent<T extends { id: string }, S>(spec: {
  type: string;
  data: Struct<T, S>;
  handlers: readonly HandlerName[];
  internal?: boolean;
}): EventDefinition {
  return {
    type: spec.type,
    handlers: spec.handlers,
    internal: spec.internal ?? false,
    validateData: (value) => validate(value, spec.data),
  };
}
