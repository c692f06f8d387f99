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
