// How each entity type's current state is mirrored into D1 by the `database` handler: the table
// (migrations/*.sql) and its columns beyond the shared ones (tenant, id, state, last_event_seq,
// updated_at). Event definitions name their entity's mirror, so the handler knows no entity type.
import type { JsonObject } from "../types.ts";

type MirrorValue = string | number | null;

export interface D1Mirror {
  /** Fixed identifiers from this file, never input. */
  table: string;
  columns(state: JsonObject): Record<string, MirrorValue>;
}

const text = (value: unknown): string | null => (typeof value === "string" ? value : null);

export const LEAD_MIRROR: D1Mirror = {
  table: "leads",
  columns: (state) => ({ email: text(state.email), name: text(state.name), status: text(state.status) }),
};

export const OFFER_MIRROR: D1Mirror = {
  table: "offers",
  columns: (state) => ({ lead_id: text(state.leadId), amount: typeof state.amount === "number" ? state.amount : null, currency: text(state.currency) }),
};
