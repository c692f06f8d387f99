import { DurableObject } from "cloudflare:workers";
import { entityActor, type Implementation, type TenantActorRpc } from "../src/actors";
import { settings as readSettings } from "../src/config";
import type { DeadLetterEntry, DeadLetterFilter, DeadLetterPage } from "../src/dead-letters";
import { VERSION } from "../src/version";
import type { EntityRef } from "../src/types";
import { createSql, type Sql } from "./sql";

interface DeadLetterRow extends Record<string, SqlStorageValue> {
  n: number;
  id: string;
  entity_type: string;
  entity_id: string;
  outbox_id: number;
  event_id: string;
  handler: string;
  attempts: number;
  last_error: string | null;
  dead_at: string;
  alerted: number;
}

const SCHEMA = [
  // n orders the listing and is the page cursor; a re-dead letter is re-inserted with a new n.
  `CREATE TABLE IF NOT EXISTS dead_letters (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    outbox_id INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    handler TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    dead_at TEXT NOT NULL,
    alerted INTEGER NOT NULL DEFAULT 0
  )`,
  `CREATE INDEX IF NOT EXISTS dead_letters_unalerted ON dead_letters (n) WHERE alerted = 0`,
  `CREATE TABLE IF NOT EXISTS alert_state (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), last_alert_at INTEGER NOT NULL)`,
];

/**
 * One Durable Object per tenant: the tenant-wide index of dead letters (entities report theirs
 * here), replay across entities, and rate-limited Slack alerts about new dead letters.
 */
export class TenantActor extends DurableObject<Cloudflare.Env> implements Implementation<TenantActorRpc> {
  private readonly sql: Sql;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.sql = createSql(ctx.storage.sql);
    // Idempotent DDL (IF NOT EXISTS) that a later change may only add to.
    for (const statement of SCHEMA) ctx.storage.sql.exec(statement);
  }

  async recordDeadLetters(entries: DeadLetterEntry[]): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      for (const e of entries) {
        this.sql`DELETE FROM dead_letters WHERE id = ${e.id}`;
        this.sql`INSERT INTO dead_letters (id, entity_type, entity_id, outbox_id, event_id, handler, attempts, last_error, dead_at)
                 VALUES (${e.id}, ${e.entity.type}, ${e.entity.id}, ${outboxIdOf(e.id)}, ${e.eventId}, ${e.handler}, ${e.attempts}, ${e.lastError}, ${e.deadAt})`;
      }
    });
    // Alerts go out from the alarm, never inline: at most one per interval, the rest summarised.
    const last = this.sql<{ last_alert_at: number }>`SELECT last_alert_at FROM alert_state`[0]?.last_alert_at ?? 0;
    const at = Math.max(Date.now(), last + readSettings(this.env).alertIntervalMs);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  listDeadLetters(limit: number, cursor: number): DeadLetterPage {
    const rows = this.sql<DeadLetterRow>`SELECT * FROM dead_letters WHERE n > ${cursor} ORDER BY n LIMIT ${limit + 1}`;
    const page = rows.slice(0, limit);
    return { deadLetters: page.map(toEntry), next: rows.length > limit ? String(page[page.length - 1]!.n) : null };
  }

  /** Replays the matching dead letters on their entities; the ones an entity took back leave the index. */
  async replay(filter: DeadLetterFilter): Promise<number> {
    const matching = this.sql<DeadLetterRow>`SELECT * FROM dead_letters ORDER BY n`.filter((row) => matches(row, filter));
    const byEntity = new Map<string, { entity: EntityRef; rows: DeadLetterRow[] }>();
    for (const row of matching) {
      const key = `${row.entity_type}/${row.entity_id}`;
      const group = byEntity.get(key) ?? { entity: { type: row.entity_type, id: row.entity_id }, rows: [] };
      group.rows.push(row);
      byEntity.set(key, group);
    }
    const tenant = this.ctx.id.name;
    if (!tenant) throw new Error("tenant actor has no name");
    let replayed = 0;
    await Promise.all(
      [...byEntity.values()].map(async ({ entity, rows }) => {
        try {
          replayed += await entityActor(this.env, tenant, entity).replay(rows.map((r) => Number(r.outbox_id)));
          for (const row of rows) this.sql`DELETE FROM dead_letters WHERE id = ${row.id}`;
        } catch (err) {
          // Left in the index: a later replay tries again.
          console.error(JSON.stringify({ level: "error", msg: "replay failed for entity", tenant, entity, error: String(err) }));
        }
      }),
    );
    return replayed;
  }

  /** Sends one alert for everything that went dead since the last one. */
  override async alarm(): Promise<void> {
    const pending = this.sql<DeadLetterRow>`SELECT * FROM dead_letters WHERE alerted = 0 ORDER BY n`;
    if (pending.length === 0) return;
    const url = this.env.SLACK_WEBHOOK_URL;
    const now = Date.now();
    if (url) {
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": `edgeflow/${VERSION}`, "idempotency-key": `alert:${this.ctx.id.name}:${pending[pending.length - 1]!.n}` },
          body: JSON.stringify({ text: alertText(this.ctx.id.name ?? "?", pending) }),
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
      } catch (err) {
        console.error(JSON.stringify({ level: "warn", msg: "dead-letter alert not delivered; will retry", error: String(err) }));
        await this.ctx.storage.setAlarm(now + Math.max(readSettings(this.env).alertIntervalMs, 10_000));
        return;
      }
    }
    this.ctx.storage.transactionSync(() => {
      const last = pending[pending.length - 1]!.n;
      this.sql`UPDATE dead_letters SET alerted = 1 WHERE n <= ${last} AND alerted = 0`;
      this.sql`INSERT INTO alert_state (singleton, last_alert_at) VALUES (1, ${now}) ON CONFLICT (singleton) DO UPDATE SET last_alert_at = ${now}`;
    });
  }
}


function outboxIdOf(id: string): number {
  return Number(id.slice(id.lastIndexOf("/") + 1));
}

function toEntry(row: DeadLetterRow): DeadLetterEntry {
  return {
    id: row.id,
    entity: { type: row.entity_type, id: row.entity_id },
    eventId: row.event_id,
    handler: row.handler,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    deadAt: row.dead_at,
  };
}

function matches(row: DeadLetterRow, filter: DeadLetterFilter): boolean {
  if (filter.ids && !filter.ids.includes(row.id)) return false;
  if (filter.handler && filter.handler !== row.handler) return false;
  if (filter.entity && (filter.entity.type !== row.entity_type || filter.entity.id !== row.entity_id)) return false;
  return true;
}

function alertText(tenant: string, rows: DeadLetterRow[]): string {
  if (rows.length === 1) {
    const r = rows[0]!;
    return `:rotating_light: [${tenant}] ${r.handler} delivery for ${r.entity_type} ${r.entity_id} (event ${r.event_id}) is dead after ${r.attempts} attempts: ${r.last_error ?? "unknown error"}. Replay with POST /v1/dead-letters/replay.`;
  }
  const byHandler = new Map<string, number>();
  for (const r of rows) byHandler.set(r.handler, (byHandler.get(r.handler) ?? 0) + 1);
  const summary = [...byHandler].map(([h, n]) => `${h}: ${n}`).join(", ");
  return `:rotating_light: [${tenant}] ${rows.length} deliveries went dead since the last alert (${summary}). List them with GET /v1/dead-letters; replay with POST /v1/dead-letters/replay.`;
}
