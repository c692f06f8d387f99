import { validate, type Struct, type StructError } from "superstruct";
import type { HandlerName } from "../handlers/registry";
import type { EntityRef, JsonObject } from "../types";
import type { D1Mirror } from "./mirrors.ts";

/** What every event type's `data` has in common: the id its entity is derived from. */
export type EventData = { id: string } & Record<string, unknown>;

/** What the Slack handler sees of one delivery. */
export interface SlackInput {
  event: { type: string; data: JsonObject };
  entity: EntityRef;
  /** The entity's current state. */
  state: JsonObject;
}

/** The message to post, or why nothing should be posted (the delivery ends `skipped`). */
export type SlackMessage = { text: string } | { skip: string };

/**
 * Everything edgeflow knows about one event type, including what differs per type in the handlers
 * it lists (the Slack text), so handlers never switch on event types. One file per type, one line
 * in the registry.
 */
export interface EventDefinition {
  type: string;
  /** Validates `data`; extra fields are allowed and kept. */
  validateData(value: unknown): [StructError, undefined] | [undefined, EventData];
  /** Handler names, in the order the contract lists them. */
  handlers: readonly HandlerName[];
  /** Emitted by edgeflow itself; clients cannot post it. */
  internal?: boolean;
  /** The Slack message, for types that list the `slack` handler. */
  slack?(input: SlackInput): SlackMessage;
  /** Where the `database` handler mirrors the entity's state, for types that list it. */
  mirror?: D1Mirror;
}

/** Builds an `EventDefinition` from a superstruct schema for its `data`. */
export function defineEvent<T extends { id: string }, S, const H extends readonly HandlerName[]>(
  spec: {
    type: string;
    data: Struct<T, S>;
    handlers: H;
    internal?: boolean;
    // A type that lists `slack` must say what to post, and one that lists `database` where to
    // mirror: leaving either out fails `tsc`.
  } & ("slack" extends H[number] ? { slack(input: SlackInput): SlackMessage } : { slack?: never }) &
    ("database" extends H[number] ? { mirror: D1Mirror } : { mirror?: never }),
): EventDefinition {
  return {
    type: spec.type,
    handlers: spec.handlers,
    internal: spec.internal ?? false,
    validateData: (value) => validate(value, spec.data),
    ...(spec.slack ? { slack: spec.slack } : {}),
    ...(spec.mirror ? { mirror: spec.mirror } : {}),
  };
}
