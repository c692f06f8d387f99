// Reads a stopped server's persisted Durable Object databases directly, without starting an
// actor (starting one would re-arm its alarm and hide the very fault being looked for).
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { HANDLERS_OF } from "./registry.ts";

export interface OpenWork {
  actor: string;
  /**
   * Deliveries not yet settled: events after a handler's cursor that concern it, pending rows,
   * dead letters the tenant index has not been told of, and unfired timers.
   */
  open: number;
  /** When the alarm that would wake this actor after a restart is set, in ms; null if none. */
  alarmAt: number | null;
}

type Progress = Record<string, { through: number }>;

/** Every handler's cursor before the first event: the head of an entity that has none written yet. */
const NO_PROGRESS: Progress = Object.fromEntries([...new Set([...HANDLERS_OF.values()].flatMap((h) => [...h]))].map((h) => [h, { through: 0 }]));

function hasTable(db: DatabaseSync, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

/** Every entity actor that still has work, with its alarm. Work without an alarm is stranded. */
export function openWork(persistDir: string): OpenWork[] {
  const dir = join(persistDir, "do", "edgeflow-EntityActor");
  if (!existsSync(dir)) return [];
  // workerd wakes actors after a restart from this index of scheduled alarms.
  const index = new DatabaseSync(join(dir, "metadata.sqlite"), { readOnly: true });
  const alarms = new Map<string, number>();
  try {
    const query = index.prepare("SELECT actor_id, scheduled_time FROM _cf_ALARM");
    query.setReadBigInts(true);
    for (const row of query.all()) alarms.set(String(row.actor_id), Number(BigInt(row.scheduled_time as bigint) / 1_000_000n));
  } finally {
    index.close();
  }
  const found: OpenWork[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite")) {
    const db = new DatabaseSync(join(dir, file), { readOnly: true });
    try {
      if (!hasTable(db, "events")) continue;
      // Row 0 of the log is the entity's head: its cursors and timers.
      const row = db.prepare(`SELECT data FROM events WHERE seq = 0`).get() as { data: string } | undefined;
      // A new entity whose head is not written yet (its first row carries who it is): all of its
      // events are open for every handler.
      const head = row ? (JSON.parse(row.data) as { progress: Progress; timers: unknown[] }) : { progress: NO_PROGRESS, timers: [] };
      let open = head.timers.length;
      const progress = head.progress;
      const lowest = Math.min(...Object.values(progress).map((p) => p.through));
      if (Number.isFinite(lowest)) {
        for (const event of db.prepare(`SELECT seq, type FROM events WHERE seq > ?`).all(Math.max(0, lowest)) as Array<{ seq: number; type: string }>) {
          for (const [handler, p] of Object.entries(progress)) if (event.seq > p.through && HANDLERS_OF.get(event.type)?.has(handler)) open++;
        }
      }
      if (hasTable(db, "deliveries")) {
        open += Number((db.prepare(`SELECT COUNT(*) AS n FROM deliveries WHERE status = 'pending' OR (status = 'dead' AND dead_reported = 0)`).get() as { n: number }).n);
      }
      const actorId = file.slice(0, -".sqlite".length);
      if (open > 0) found.push({ actor: actorId, open, alarmAt: alarms.get(actorId) ?? null });
    } finally {
      db.close();
    }
  }
  return found;
}

export interface DeliveryHistory {
  /** Failed attempts that ended in the handler's timeout: the call may still have landed. */
  timeouts: number;
  /** Tries counted because queue sends lapsed with no report: a consumer may have run the call unheard. */
  unreported: number;
}

/** Per `{eventId}:{handler}` idempotency key: what the actor recorded about its failed attempts. */
export function deliveryHistories(persistDir: string): Map<string, DeliveryHistory> {
  const dir = join(persistDir, "do", "edgeflow-EntityActor");
  const histories = new Map<string, DeliveryHistory>();
  if (!existsSync(dir)) return histories;
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite")) {
    const db = new DatabaseSync(join(dir, file), { readOnly: true });
    try {
      if (!hasTable(db, "failures")) continue;
      const rows = db
        .prepare(
          `SELECT e.id AS event_id, f.handler,
                  SUM(f.error LIKE '%timed out%') AS timeouts,
                  SUM(f.error LIKE 'no outcome reported%') AS unreported
           FROM failures f JOIN events e ON e.seq = f.seq GROUP BY e.id, f.handler`,
        )
        .all() as Array<{ event_id: string; handler: string; timeouts: number; unreported: number }>;
      for (const r of rows) histories.set(`${r.event_id}:${r.handler}`, { timeouts: Number(r.timeouts), unreported: Number(r.unreported) });
    } finally {
      db.close();
    }
  }
  return histories;
}
