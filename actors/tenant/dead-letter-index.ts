// The tenant-wide index of dead letters: entities report theirs here, the API lists and replays
// them, the alarm alerts about new ones. Its tables are created with the first dead letter.
import type { EntityRef } from "../../src/types.ts";
import { type DeadLetterEntry, type DeadLetterFilter, type DeadLetterPage } from "../../src/delivery/policy/dead-letters.ts";
import type { Notification } from "../../src/events/notification.ts";
import type { Db, Row } from "../shared/sql.ts";

export interface DeadLetterRow extends Row {
  n: number;
  id: string;
  entity_type: string;
  entity_id: string;
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

/** What went dead since the last alert (DeadLetterIndex.unalerted). */
export interface Unalerted {
  count: number;
  lastN: number;
  byHandler: Record<string, number>;
  /** The entry, when there is exactly one. */
  only: DeadLetterRow | null;
}

export class DeadLetterIndex {
  constructor(private readonly db: Db) {}

  private get exists(): boolean {
    return this.db.tables.has("dead_letters");
  }

  /** Whether this instance has checked the table for the column 0.5 and earlier kept. */
  private upgraded = false;

  /** Adds (or re-adds, with a new `n`) entries. Call inside a transaction. */
  record(entries: readonly DeadLetterEntry[]): void {
    this.db.tables.make("dead_letters", SCHEMA);
    this.dropOutboxId();
    for (const e of entries) {
      this.db.sql`DELETE FROM dead_letters WHERE id = ${e.id}`;
      this.db.sql`INSERT INTO dead_letters (id, entity_type, entity_id, event_id, handler, attempts, last_error, dead_at)
                  VALUES (${e.id}, ${e.entity.type}, ${e.entity.id}, ${e.eventId}, ${e.handler}, ${e.attempts}, ${e.lastError}, ${e.deadAt})`;
    }
  }

  /**
   * Tables written by 0.5 and earlier have `outbox_id` (NOT NULL, read by nothing since the cursor
   * engine): dropped on the first write after the upgrade, so inserts need not invent a value.
   */
  private dropOutboxId(): void {
    if (this.upgraded) return;
    this.upgraded = true;
    const columns = this.db.all<{ name: string }>(`SELECT name FROM pragma_table_info('dead_letters')`).map((r) => r.name);
    if (columns.includes("outbox_id")) this.db.schema([`ALTER TABLE dead_letters DROP COLUMN outbox_id`]);
  }

  lastAlertAt(): number {
    if (!this.exists) return 0;
    return Number(this.db.all<{ last_alert_at: number }>(`SELECT last_alert_at FROM alert_state`)[0]?.last_alert_at ?? 0);
  }

  page(limit: number, cursor: number): DeadLetterPage {
    if (!this.exists) return { deadLetters: [], next: null };
    const rows = this.db.sql<DeadLetterRow>`SELECT * FROM dead_letters WHERE n > ${cursor} ORDER BY n LIMIT ${limit + 1}`;
    const page = rows.slice(0, limit);
    return { deadLetters: page.map(toEntry), next: rows.length > limit ? String(page[page.length - 1]!.n) : null };
  }

  /** The newest entry's `n`: a replay takes only what was indexed up to here when it started. */
  lastN(): number {
    if (!this.exists) return 0;
    return Number(this.db.all<{ n: number | null }>(`SELECT MAX(n) AS n FROM dead_letters`)[0]?.n ?? 0);
  }

  /** One page of the entries matching `filter`, with `cursor < n <= until`. */
  matching(filter: DeadLetterFilter, cursor: number, until: number, limit: number): DeadLetterRow[] {
    if (!this.exists) return [];
    const ids = filter.ids ? JSON.stringify(filter.ids) : null;
    const handler = filter.handler || null;
    const entityType = filter.entity?.type ?? null;
    const entityId = filter.entity?.id ?? null;
    return this.db.sql<DeadLetterRow>`
      SELECT * FROM dead_letters
      WHERE n > ${cursor} AND n <= ${until}
        AND (${ids} IS NULL OR id IN (SELECT value FROM json_each(${ids})))
        AND (${handler} IS NULL OR handler = ${handler})
        AND (${entityType} IS NULL OR (entity_type = ${entityType} AND entity_id = ${entityId}))
      ORDER BY n LIMIT ${limit}`;
  }

  /**
   * Removes replayed rows, each only as it was when read (`n`): if the delivery died again and was
   * re-indexed meanwhile (a new `n`), that new entry stays. Call inside a transaction.
   */
  forget(rows: ReadonlyArray<Pick<DeadLetterRow, "id" | "n">>): void {
    for (const row of rows) this.db.sql`DELETE FROM dead_letters WHERE id = ${row.id} AND n = ${row.n}`;
  }

  /** Removes every entry of one entity (its erasure). Call inside a transaction. */
  forgetEntity(entity: EntityRef): void {
    if (this.exists) this.db.sql`DELETE FROM dead_letters WHERE entity_type = ${entity.type} AND entity_id = ${entity.id}`;
  }

  /** Open dead letters per handler (the metrics' gauge). */
  openByHandler(): Record<string, number> {
    if (!this.exists) return {};
    const rows = this.db.sql<{ handler: string; n: number }>`SELECT handler, COUNT(*) AS n FROM dead_letters GROUP BY handler`;
    return Object.fromEntries(rows.map((r) => [r.handler, Number(r.n)]));
  }

  /**
   * What went dead since the last alert, for its message: how many (by handler), the newest `n`,
   * and the one entry when there is only one. Bounded, however many there are.
   */
  unalerted(): Unalerted {
    const none: Unalerted = { count: 0, lastN: 0, byHandler: {}, only: null };
    if (!this.exists) return none;
    const groups = this.db.sql<{ handler: string; n: number; last: number }>`SELECT handler, COUNT(*) AS n, MAX(n) AS last FROM dead_letters WHERE alerted = 0 GROUP BY handler`;
    if (groups.length === 0) return none;
    const count = groups.reduce((sum, g) => sum + Number(g.n), 0);
    const lastN = Math.max(...groups.map((g) => Number(g.last)));
    const only = count === 1 ? (this.db.sql<DeadLetterRow>`SELECT * FROM dead_letters WHERE n = ${lastN}`[0] ?? null) : null;
    return { count, lastN, byHandler: Object.fromEntries(groups.map((g) => [g.handler, Number(g.n)])), only };
  }

  /** Call inside a transaction. */
  markAlerted(throughN: number, now: number): void {
    this.db.sql`UPDATE dead_letters SET alerted = 1 WHERE n <= ${throughN} AND alerted = 0`;
    this.db.sql`INSERT INTO alert_state (singleton, last_alert_at) VALUES (1, ${now}) ON CONFLICT (singleton) DO UPDATE SET last_alert_at = ${now}`;
  }
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

/**
 * The alert for dead letters, as a service-neutral message (src/events/notification.ts): one
 * names its delivery; several are summarised by handler. Client text (a receiver's error) goes in
 * as it came; each chat service escapes it its own way.
 */
export function alertNotification(tenant: string, unalerted: Unalerted): Notification {
  if (unalerted.only) {
    const r = unalerted.only;
    const error = r.last_error ?? "unknown error";
    return {
      icon: "rotating_light",
      title: "Dead letter",
      text: [`[${tenant}] ${r.handler} delivery for ${r.entity_type} ${r.entity_id} (event ${r.event_id}) is dead after ${r.attempts} attempts: ${error}. Replay with POST /v1/dead-letters/replay.`],
      fields: [
        { name: "Handler", value: r.handler },
        { name: "Entity", value: `${r.entity_type}/${r.entity_id}` },
        { name: "Error", value: error },
      ],
    };
  }
  const byHandler = Object.entries(unalerted.byHandler);
  const summary = byHandler.map(([h, n]) => `${h}: ${n}`).join(", ");
  return {
    icon: "rotating_light",
    title: "Dead letters",
    text: [`[${tenant}] ${unalerted.count} deliveries went dead since the last alert (${summary}). List them with GET /v1/dead-letters; replay with POST /v1/dead-letters/replay.`],
    fields: byHandler.map(([h, n]) => ({ name: h, value: String(n) })),
  };
}
