/** The entity type an event type belongs to: the prefix before the first dot (`lead.created` → `lead`). */
export function entityTypeOf(eventType: string): string {
  return eventType.split(".")[0]!;
}
