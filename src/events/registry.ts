import type { EventDefinition } from "./definition.ts";
import { leadCreated } from "./lead-created.ts";
import { leadFollowUpDue } from "./lead-follow-up-due.ts";
import { leadUpdated } from "./lead-updated.ts";
import { offerSubmitted } from "./offer-submitted.ts";

/** Every registered event type. Adding a type is one file in this folder plus one entry here. */
const DEFINITIONS: readonly EventDefinition[] = [leadCreated, leadUpdated, offerSubmitted, leadFollowUpDue];

const BY_TYPE = new Map(DEFINITIONS.map((definition) => [definition.type, definition]));

export function eventDefinition(type: string): EventDefinition | undefined {
  return BY_TYPE.get(type);
}

/** Every definition, internal ones included. */
export function eventDefinitions(): readonly EventDefinition[] {
  return DEFINITIONS;
}

export function registeredTypes(): string[] {
  return DEFINITIONS.filter((d) => !d.internal).map((d) => d.type);
}
