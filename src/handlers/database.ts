import { SkipDelivery } from "../delivery/policy/errors.ts";
import { eventDefinition, eventDefinitions } from "../events/registry.ts";
import { entityTypeOf } from "../events/entity-type.ts";
import { countRows, ensureSchema } from "./d1-schema.ts";
import { mirroredData, mirroredState, mirroredText } from "./mirror-bounds.ts";
import { defineHandler, type HandlerContext } from "./handler.ts";
import type { EntityRef } from "../types.ts";

/** Most events one D1 batch carries for one entity. */
const MAX_BATCH = 50;

/**
 * Mirrors the entity into D1 (the table its event type names, plus the event log where the tenant's settings ask). Every write is an upsert keyed
 * by the entity or event, and guarded by seq, so retries and replays never duplicate or regress.
 * An entity's backlog goes in one D1 batch: every event row, then one upsert of the current
 * state at the highest seq, which is what one upsert per event would have left.
 */
export const database = defineHandler({
  name: "database",
  mode: "inline",
  docs: {
    does: "upserts the entity into D1 (the table its event type names: `leads` or `offers`), guarded by `seq`, and each event into `events` where the tenant's settings ask for it (`mirror.events`, default off); an entity's backlog goes in one D1 batch (up to 50 events) with one upsert of its state",
    skippedWhen: "no `DB` binding",
  },
  // Every type that says where its entity is mirrored.
  takes: (definition) => definition.mirror !== undefined,
  maxBatch: MAX_BATCH,
  unconfigured: (env) => (env.DB ? null : "not configured: no D1 binding DB"),
  run: (context) => mirror([context]),
  runBatch: (contexts) => mirror(contexts),
});

async function mirror(contexts: HandlerContext[]): Promise<void> {
  const { env, tenant, entity, state, configuration } = contexts[0]!;
  if (!env.DB) throw new SkipDelivery("not configured: no D1 binding DB");
  // The D1 database is every tenant's: past its budget a tenant's rows stop growing (mirror-bounds.ts).
  if (configuration.mirrorOverBudget) throw new SkipDelivery("over the tenant's D1 mirror budget (D1_TENANT_BUDGET_BYTES)");
  const db = env.DB;
  await ensureSchema(db);
  const now = Date.now();
  const insertEvent = db.prepare(
    `INSERT INTO events (tenant, event_id, entity_type, entity_id, seq, type, occurred_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
  );
  // A row per event only where the tenant asks for it (settings `mirror.events`): the entity's own
  // log has every event, and each row is a billed D1 row.
  const statements: D1PreparedStatement[] = contexts[0]!.configuration.settings.mirror.events
    ? contexts.map(({ event, stored }) => insertEvent.bind(tenant, event.id, entity.type, entity.id, event.seq, event.type, event.occurredAt, mirroredData(event.data, stored?.payload)))
    : [];
  const seq = Math.max(...contexts.map((c) => c.event.seq));
  // The newest event's type says where its entity is mirrored.
  const mirror = eventDefinition(contexts[contexts.length - 1]!.event.type)?.mirror;
  if (mirror) {
    const columns = Object.entries(mirror.columns(state)).map(([name, value]) => [name, typeof value === "string" ? mirroredText(value) : value] as const);
    const names = columns.map(([name]) => name);
    const all = [...names, "state", "last_event_seq", "updated_at"];
    statements.push(
      db
        .prepare(
          `INSERT INTO ${mirror.table} (tenant, id, ${all.join(", ")}) VALUES (?, ?, ${all.map(() => "?").join(", ")})
           ON CONFLICT (tenant, id) DO UPDATE SET ${all.map((n) => `${n} = excluded.${n}`).join(", ")}
           WHERE excluded.last_event_seq >= ${mirror.table}.last_event_seq`,
        )
        .bind(tenant, entity.id, ...columns.map(([, value]) => value), mirroredState(state, contexts[contexts.length - 1]!.stored?.state), seq, now),
    );
  }
  countRows(await db.batch(statements));
}

/** Deletes every row a tenant has in the D1 mirror (offboarding). */
export async function eraseTenantRows(db: D1Database, tenant: string): Promise<void> {
  await ensureSchema(db);
  const tables = new Set(eventDefinitions().flatMap((d) => (d.mirror ? [d.mirror.table] : [])));
  tables.add("events");
  countRows(await db.batch([...tables].map((table) => db.prepare(`DELETE FROM ${table} WHERE tenant = ?`).bind(tenant))));
}

/**
 * Every mirror table an entity of this type can have a row in: the tables of all its event types,
 * whatever its own log still holds (retention may have compacted every event that wrote one).
 */
export function mirrorTablesOf(entityType: string): string[] {
  return [...new Set(eventDefinitions().flatMap((d) => (d.mirror && entityTypeOf(d.type) === entityType ? [d.mirror.table] : [])))];
}

/**
 * Deletes one entity's rows in the D1 mirror (its erasure): its event rows, and its state rows in
 * every table of its type (`mirrorTables` adds what a tombstone written before 0.6 listed).
 */
export async function eraseEntityRows(db: D1Database, tenant: string, entity: EntityRef, mirrorTables: readonly string[] = []): Promise<void> {
  await ensureSchema(db);
  const known = new Set(eventDefinitions().flatMap((d) => (d.mirror ? [d.mirror.table] : [])));
  // Only tables a definition names: the list came from the entity's storage, never from input.
  const tables = [...new Set([...mirrorTablesOf(entity.type), ...mirrorTables])].filter((t) => known.has(t));
  countRows(
    await db.batch([
      db.prepare(`DELETE FROM events WHERE tenant = ? AND entity_type = ? AND entity_id = ?`).bind(tenant, entity.type, entity.id),
      ...tables.map((table) => db.prepare(`DELETE FROM ${table} WHERE tenant = ? AND id = ?`).bind(tenant, entity.id)),
    ]),
  );
}

/** Bytes a tenant's rows hold in the mirror (its budget's measure, D1_TENANT_BUDGET_BYTES). */
export async function mirrorBytes(db: D1Database, tenant: string): Promise<number> {
  await ensureSchema(db);
  const tables = [...new Set(eventDefinitions().flatMap((d) => (d.mirror ? [d.mirror.table] : [])))];
  const results = await db.batch([
    ...tables.map((table) => db.prepare(`SELECT COALESCE(SUM(length(state)), 0) AS bytes FROM ${table} WHERE tenant = ?`).bind(tenant)),
    db.prepare(`SELECT COALESCE(SUM(length(data)), 0) AS bytes FROM events WHERE tenant = ?`).bind(tenant),
  ]);
  countRows(results);
  return results.reduce((sum, r) => sum + Number((r.results[0] as { bytes?: number } | undefined)?.bytes ?? 0), 0);
}
