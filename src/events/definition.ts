import { validate, type Struct, type StructError } from "superstruct";
import type { D1Mirror } from "./mirrors.ts";
import type { NotificationInput, NotificationResult } from "./notification.ts";

/** What every event type's `data` has in common: the id its entity is derived from. */
type EventData = { id: string } & Record<string, unknown>;

/**
 * Everything edgeflow knows about one event type: its data, and what it says to the services that
 * handlers need it to say (a notification, a mirror table). It names no handler: handlers declare
 * which types they take (src/handlers/registry.ts). One file per type, one line in the registry.
 */
export interface EventDefinition {
  type: string;
  /** What `data` must hold, for the README's table (markdown). */
  describe: string;
  /** Validates `data`; extra fields are allowed and kept. */
  validateData(value: unknown): [StructError, undefined] | [undefined, EventData];
  /** Emitted by edgeflow itself; clients cannot post it. */
  internal?: boolean;
  /** What to tell people, for the notification handlers (Slack, Discord, Teams); without it they do not take the type. */
  notify?(input: NotificationInput): NotificationResult;
  /** Where the `database` handler mirrors the entity's state; without it the handler does not take the type. */
  mirror?: D1Mirror;
}

/** Builds an `EventDefinition` from a superstruct schema for its `data`. */
export function defineEvent<T extends { id: string }, S>(spec: {
  type: string;
  describe: string;
  data: Struct<T, S>;
  internal?: boolean;
  notify?(input: NotificationInput): NotificationResult;
  mirror?: D1Mirror;
}): EventDefinition {
  return {
    type: spec.type,
    describe: spec.describe,
    internal: spec.internal ?? false,
    validateData: (value) => validate(value, spec.data),
    ...(spec.notify ? { notify: spec.notify } : {}),
    ...(spec.mirror ? { mirror: spec.mirror } : {}),
  };
}
