// Reads a stopped server's persisted Durable Object databases directly, without starting an
// actor (starting one would re-arm its alarm and hide the very fault being looked for).
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

export interface OpenWork {
  actor: string;
  /** Outbox rows pending or in flight, dead rows the tenant index has not been told of, unfired timers. */
  open: number;
  /** When the alarm that would wake this actor after a restart is set, in ms; null if none. */
  alarmAt: number | null;
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
      const count = (sql: string) => Number((db.prepare(sql).get() as { n: number }).n);
      const open =
        count("SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'in_flight') OR (status = 'dead' AND dead_reported = 0)") +
        count("SELECT COUNT(*) AS n FROM timers WHERE fired_at IS NULL");
      const actorId = file.slice(0, -".sqlite".length);
      if (open > 0) found.push({ actor: actorId, open, alarmAt: alarms.get(actorId) ?? null });
    } finally {
      db.close();
    }
  }
  return found;
}

export interface DeliveryHistory {
  /** Attempts that ended in the handler's timeout: the call may still have landed. */
  timeouts: number;
  /** Attempts started that never reported (lost with a killed server, or re-sent after a lease lapse). */
  unreported: number;
}

/** Per `{eventId}:{handler}` idempotency key: what the actor recorded about its attempts. */
export function deliveryHistories(persistDir: string): Map<string, DeliveryHistory> {
  const dir = join(persistDir, "do", "edgeflow-EntityActor");
  const histories = new Map<string, DeliveryHistory>();
  if (!existsSync(dir)) return histories;
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite")) {
    const db = new DatabaseSync(join(dir, file), { readOnly: true });
    try {
      const rows = db
        .prepare(
          `SELECT e.id AS event_id, o.handler, o.attempts,
                  (SELECT COUNT(*) FROM attempts a WHERE a.outbox_id = o.id) AS reported,
                  (SELECT COUNT(*) FROM attempts a WHERE a.outbox_id = o.id AND a.error LIKE '%timed out%') AS timeouts
           FROM outbox o JOIN events e ON e.seq = o.event_seq`,
        )
        .all() as Array<{ event_id: string; handler: string; attempts: number; reported: number; timeouts: number }>;
      for (const r of rows) {
        histories.set(`${r.event_id}:${r.handler}`, { timeouts: Number(r.timeouts), unreported: Math.max(0, Number(r.attempts) - Number(r.reported)) });
      }
    } finally {
      db.close();
    }
  }
  return histories;
}
