// What a replay re-delivers, shared by replay on request (one entity) and backfills (every entity).

/** Events from seq `fromSeq`, of these types (all when absent), that occurred at or after `since` (epoch ms). */
export interface ReplayFilter {
  fromSeq: number;
  eventTypes?: readonly string[];
  since?: number;
}

/** Whether a stored event is one the filter re-delivers (its seq range is the caller's to bound). */
export function replays(filter: ReplayFilter, event: { type: string; occurred_at: number }): boolean {
  return (filter.eventTypes === undefined || filter.eventTypes.includes(event.type)) && (filter.since === undefined || event.occurred_at >= filter.since);
}
