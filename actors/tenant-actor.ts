import { DurableObject } from "cloudflare:workers";
import { entityActor, type Implementation, type TenantActorRpc } from "../src/actors";
import { settings as readSettings } from "../src/config";
import { deliveryRefOf, type DeadLetterEntry, type DeadLetterFilter, type DeadLetterPage } from "../src/dead-letters";
import { slackEscape } from "../src/slack-text";
import { VERSION } from "../src/version";
import type { EntityRef } from "../src/types";
import { pointAlarm, wakeBy } from "./alarm";
import { Db, TENANT_SQL, type Sql } from "./sql";
import { addUsage } from "../src/usage";

/** Dead letters read per page of a replay, and entity replays in flight at once. */
const REPLAY_PAGE = 200;
const REPLAY_CONCURRENCY = 8;

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface DeadLetterRow extends Record<string, SqlStorageValue> {
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
    const db = new Db(ctx.storage.sql, TENANT_SQL);
    this.sql = db.sql;
    // Idempotent DDL (IF NOT EXISTS) that a later change may only add to.
    db.schema(SCHEMA);
  }

  async recordDeadLetters(entries: DeadLetterEntry[]): Promise<void> {
    addUsage("tenantRequests");
    this.ctx.storage.transactionSync(() => {
      for (const e of entries) {
        this.sql`DELETE FROM dead_letters WHERE id = ${e.id}`;
        this.sql`INSERT INTO dead_letters (id, entity_type, entity_id, outbox_id, event_id, handler, attempts, last_error, dead_at)
                 VALUES (${e.id}, ${e.entity.type}, ${e.entity.id}, ${numberOf(e.id)}, ${e.eventId}, ${e.handler}, ${e.attempts}, ${e.lastError}, ${e.deadAt})`;
      }
    });
    // Alerts go out from the alarm, never inline: at most one per interval, the rest summarised.
    const last = this.sql<{ last_alert_at: number }>`SELECT last_alert_at FROM alert_state`[0]?.last_alert_at ?? 0;
    const at = Math.max(Date.now(), last + readSettings(this.env).alertIntervalMs);
    await wakeBy(this.ctx.storage, at);
  }

  listDeadLetters(limit: number, cursor: number): DeadLetterPage {
    addUsage("tenantRequests");
    const rows = this.sql<DeadLetterRow>`SELECT * FROM dead_letters WHERE n > ${cursor} ORDER BY n LIMIT ${limit + 1}`;
    const page = rows.slice(0, limit);
    return { deadLetters: page.map(toEntry), next: rows.length > limit ? String(page[page.length - 1]!.n) : null };
  }

  /**
   * Replays the matching dead letters on their entities, a page at a time with a bounded number of
   * entity calls in flight, so a tenant with a million dead letters costs bounded memory and
   * never floods its actors. Only dead letters indexed before the replay started are taken: one
   * that dies again during the replay is re-indexed behind that mark and waits for the next one.
   * Progress is logged per page.
   */
  async replay(filter: DeadLetterFilter): Promise<number> {
    addUsage("tenantRequests");
    const tenant = this.ctx.id.name;
    if (!tenant) throw new Error("tenant actor has no name");
    const until = Number(this.sql<{ n: number | null }>`SELECT MAX(n) AS n FROM dead_letters`[0]?.n ?? 0);
    let cursor = 0;
    let replayed = 0;
    let matched = 0;
    for (;;) {
      const page = this.matchingPage(filter, cursor, until, REPLAY_PAGE);
      if (page.length === 0) break;
      cursor = Number(page[page.length - 1]!.n);
      matched += page.length;
      const byEntity = new Map<string, { entity: EntityRef; rows: DeadLetterRow[] }>();
      for (const row of page) {
        const key = `${row.entity_type}/${row.entity_id}`;
        const group = byEntity.get(key) ?? { entity: { type: row.entity_type, id: row.entity_id }, rows: [] };
        group.rows.push(row);
        byEntity.set(key, group);
      }
      await forEachLimited([...byEntity.values()], REPLAY_CONCURRENCY, async ({ entity, rows }) => {
        try {
          replayed += await entityActor(this.env, tenant, entity).replay(rows.map((r) => deliveryRefOf(r.id)).filter((ref) => ref !== null));
          this.forgetReplayed(rows);
        } catch (err) {
          // Left in the index: a later replay tries again.
          console.error(JSON.stringify({ level: "error", msg: "replay failed for entity", tenant, entity, error: String(err) }));
        }
      });
      console.log(JSON.stringify({ level: "info", msg: "dead-letter replay progress", tenant, matched, replayed }));
    }
    return replayed;
  }

  /** One page of the dead letters matching `filter`, with `cursor < n <= until`. */
  matchingPage(filter: DeadLetterFilter, cursor: number, until: number, limit: number): DeadLetterRow[] {
    const ids = filter.ids ? JSON.stringify(filter.ids) : null;
    const handler = filter.handler || null;
    const entityType = filter.entity?.type ?? null;
    const entityId = filter.entity?.id ?? null;
    return this.sql<DeadLetterRow>`
      SELECT * FROM dead_letters
      WHERE n > ${cursor} AND n <= ${until}
        AND (${ids} IS NULL OR id IN (SELECT value FROM json_each(${ids})))
        AND (${handler} IS NULL OR handler = ${handler})
        AND (${entityType} IS NULL OR (entity_type = ${entityType} AND entity_id = ${entityId}))
      ORDER BY n LIMIT ${limit}`;
  }

  /**
   * Removes replayed rows from the index, each only as it was when read (`n`): if the delivery
   * died again and was re-indexed meanwhile (a new `n`), that new entry stays.
   */
  forgetReplayed(rows: ReadonlyArray<Pick<DeadLetterRow, "id" | "n">>): void {
    this.ctx.storage.transactionSync(() => {
      for (const row of rows) this.sql`DELETE FROM dead_letters WHERE id = ${row.id} AND n = ${row.n}`;
    });
  }

  /** Sends one alert for everything that went dead since the last one. */
  override async alarm(): Promise<void> {
    addUsage("tenantRequests");
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
        await pointAlarm(this.ctx.storage, now + Math.max(readSettings(this.env).alertIntervalMs, 10_000));
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


/** The number a dead-letter id carries (the event's seq, or a legacy outbox id), for the index column. */
function numberOf(id: string): number {
  const ref = deliveryRefOf(id);
  return ref === null ? 0 : "seq" in ref ? ref.seq : ref.legacyOutboxId;
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

/** The alert's text; every value that came from a client or a receiver is escaped for Slack. */
function alertText(tenant: string, rows: DeadLetterRow[]): string {
  if (rows.length === 1) {
    const r = rows[0]!;
    const [handler, type, id, eventId, error] = [r.handler, r.entity_type, r.entity_id, r.event_id, r.last_error ?? "unknown error"].map(slackEscape);
    return `:rotating_light: [${tenant}] ${handler} delivery for ${type} ${id} (event ${eventId}) is dead after ${r.attempts} attempts: ${error}. Replay with POST /v1/dead-letters/replay.`;
  }
  const byHandler = new Map<string, number>();
  for (const r of rows) byHandler.set(r.handler, (byHandler.get(r.handler) ?? 0) + 1);
  const summary = slackEscape([...byHandler].map(([h, n]) => `${h}: ${n}`).join(", "));
  return `:rotating_light: [${tenant}] ${rows.length} deliveries went dead since the last alert (${summary}). List them with GET /v1/dead-letters; replay with POST /v1/dead-letters/replay.`;
}
