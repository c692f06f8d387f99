import type { EventDefinition } from "./definition";
import { leadCreated } from "./lead-created";
import { leadFollowUpDue } from "./lead-follow-up-due";
import { leadUpdated } from "./lead-updated";
import { offerSubmitted } from "./offer-submitted";

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
