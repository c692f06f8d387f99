import type { EntityRef } from "../../types.ts";

/** One dead delivery as the tenant's index stores it; `id` is `{type}/{id}/{seq}:{handler}`. */
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

/**
 * Which delivery of an entity a dead letter is: an event (by seq) and a handler. Dead letters
 * indexed before engine v2 carry the id of their old outbox row instead, which the entity's
 * actor still maps to its event and handler.
 */
export type DeliveryRef = { seq: number; handler: string } | { legacyOutboxId: number };

export function deadLetterId(entity: EntityRef, seq: number, handler: string): string {
  return `${entity.type}/${entity.id}/${seq}:${handler}`;
}

/** The delivery a dead-letter id names (entity ids never contain '/'), or null if it is malformed. */
export function deliveryRefOf(id: string): DeliveryRef | null {
  const last = id.slice(id.lastIndexOf("/") + 1);
  if (/^\d+$/.test(last)) return { legacyOutboxId: Number(last) };
  const match = /^(\d+):(.+)$/.exec(last);
  return match ? { seq: Number(match[1]), handler: match[2]! } : null;
}
