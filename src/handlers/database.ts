import { SkipDelivery } from "../delivery/errors";
import { countRows, ensureSchema } from "./d1-schema";
import { defineHandler, type HandlerContext } from "./handler";

const text = (value: unknown): string | null => (typeof value === "string" ? value : null);

/** Most events one D1 batch carries for one entity. */
const MAX_BATCH = 50;

/**
 * Mirrors the entity into D1 (leads / offers, plus the event log). Every write is an upsert keyed
 * by the entity or event, and guarded by seq, so retries and replays never duplicate or regress.
 * An entity's backlog goes in one D1 batch: every event row, then one upsert of the current
 * state at the highest seq, which is what one upsert per event would have left.
 */
export const database = defineHandler({
  name: "database",
  mode: "inline",
  maxBatch: MAX_BATCH,
  unconfigured: (env) => (env.DB ? null : "not configured: no D1 binding DB"),
  run: (context) => mirror([context]),
  runBatch: (contexts) => mirror(contexts),
});

async function mirror(contexts: HandlerContext[]): Promise<void> {
  const { env, tenant, entity, state } = contexts[0]!;
  if (!env.DB) throw new SkipDelivery("not configured: no D1 binding DB");
  const db = env.DB;
  await ensureSchema(db);
  const now = Date.now();
  const insertEvent = db.prepare(
    `INSERT INTO events (tenant, event_id, entity_type, entity_id, seq, type, occurred_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
  );
  const statements: D1PreparedStatement[] = contexts.map(({ event }) =>
    insertEvent.bind(tenant, event.id, entity.type, entity.id, event.seq, event.type, event.occurredAt, JSON.stringify(event.data)),
  );
  const seq = Math.max(...contexts.map((c) => c.event.seq));
  const stateJson = JSON.stringify(state);
  if (entity.type === "lead") {
    statements.push(
      db
        .prepare(
          `INSERT INTO leads (tenant, id, email, name, status, state, last_event_seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (tenant, id) DO UPDATE SET email = excluded.email, name = excluded.name, status = excluded.status,
             state = excluded.state, last_event_seq = excluded.last_event_seq, updated_at = excluded.updated_at
           WHERE excluded.last_event_seq >= leads.last_event_seq`,
        )
        .bind(tenant, entity.id, text(state.email), text(state.name), text(state.status), stateJson, seq, now),
    );
  } else if (entity.type === "offer") {
    const amount = typeof state.amount === "number" ? state.amount : null;
    statements.push(
      db
        .prepare(
          `INSERT INTO offers (tenant, id, lead_id, amount, currency, state, last_event_seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (tenant, id) DO UPDATE SET lead_id = excluded.lead_id, amount = excluded.amount, currency = excluded.currency,
             state = excluded.state, last_event_seq = excluded.last_event_seq, updated_at = excluded.updated_at
           WHERE excluded.last_event_seq >= offers.last_event_seq`,
        )
        .bind(tenant, entity.id, text(state.leadId), amount, text(state.currency), stateJson, seq, now),
    );
  }
  countRows(await db.batch(statements));
}
