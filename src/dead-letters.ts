import type { EntityRef } from "./types";

/** One dead delivery as the tenant's index stores it; `id` is `{type}/{id}/{outboxId}`. */
export interface DeadLetterEntry {
  id: string;
  entity: EntityRef;
  eventId: string;
  handler: string;
  attempts: number;
  lastError: string | null;
  deadAt: string;
}

export interface DeadLetterPage {
  deadLetters: DeadLetterEntry[];
  next: string | null;
}

/** Which dead letters to replay; every given criterion must match. Empty means all. */
export interface DeadLetterFilter {
  ids?: string[];
  handler?: string;
  entity?: EntityRef;
}

export function deadLetterId(entity: EntityRef, outboxId: number): string {
  return `${entity.type}/${entity.id}/${outboxId}`;
}
