// Converts a pre-v2 actor (one outbox row per delivery) to cursors and exception rows, in place,
// inside the migration's transaction. Nothing accepted is lost and nothing delivered runs again:
// each handler's cursor stops before its first open delivery, every delivery after that which is
// settled or has been tried keeps a row, and open rows with no attempts after the last of those
// are covered by the cursor.
import type { JsonValue } from "../../src/types.ts";
import type { Db, Row } from "../shared/sql.ts";
import { insertHead, type Progress, type StateEntry, type Timer } from "./head.ts";

interface OutboxRow extends Row {
  id: number;
  event_seq: number;
  handler: string;
  status: string;
  tries: number;
  last_error: string | null;
  next_attempt_at: number | null;
  completed_at: number | null;
  dead_at: number | null;
  dead_reported: number | null;
}

const OPEN = new Set(["pending", "in_flight"]);

export function convertOutbox(db: Db): void {
  const sql = db.sql;
  const entity = sql<{ tenant: string; type: string; id: string; version: number; created_at: number; updated_at: number }>`SELECT * FROM entity`[0];
  if (!entity) return;
  const now = Date.now();

  const state: Record<string, StateEntry> = {};
  for (const f of sql<{ field: string; value: string; occurred_at: number; event_id: string }>`SELECT * FROM state_fields`) {
    Object.defineProperty(state, f.field, { value: [JSON.parse(f.value) as JsonValue, Number(f.occurred_at), f.event_id], enumerable: true, writable: true, configurable: true });
  }
  const timers: Timer[] = sql<{ id: string; type: string; due_at: number; data: string }>`SELECT id, type, due_at, data FROM timers WHERE fired_at IS NULL`.map(
    (t) => ({ id: t.id, type: t.type, at: Number(t.due_at), data: JSON.parse(t.data) }),
  );
  const lastSeq = Number(sql<{ n: number | null }>`SELECT MAX(seq) AS n FROM events`[0]?.n ?? 0);

  const byHandler = new Map<string, OutboxRow[]>();
  for (const row of sql<OutboxRow>`SELECT * FROM outbox ORDER BY handler, event_seq`) {
    const list = byHandler.get(row.handler) ?? [];
    list.push(row);
    byHandler.set(row.handler, list);
  }
  const progress: Record<string, Progress> = {};
  for (const [handler, rows] of byHandler) {
    const firstOpen = rows.find((r) => OPEN.has(r.status));
    const through = firstOpen ? Number(firstOpen.event_seq) - 1 : lastSeq;
    // The open rows at the end with no attempt yet need no row: the cursor reaches them in order.
    let tail = rows.length;
    while (tail > 0 && OPEN.has(rows[tail - 1]!.status) && Number(rows[tail - 1]!.tries) === 0) tail--;
    const completed = rows.filter((r) => Number(r.event_seq) <= through && r.completed_at !== null).map((r) => Number(r.completed_at));
    progress[handler] = { through, marks: completed.length > 0 ? [[through, Math.max(...completed)]] : [] };

    rows.forEach((row, index) => {
      const seq = Number(row.event_seq);
      const tries = Number(row.tries);
      const behind = seq <= through;
      let status: string;
      let nextAttemptAt: number | null = null;
      let reported: number | null = null;
      if (OPEN.has(row.status)) {
        if (index >= tail) return;
        // An attempt in flight when the old code stopped is due again, under the same key.
        status = "pending";
        nextAttemptAt = row.status === "pending" ? Number(row.next_attempt_at ?? now) : now;
      } else if (row.status === "dead") {
        status = "dead";
        reported = Number(row.dead_reported ?? 0);
        nextAttemptAt = reported === 1 ? null : now;
      } else if (row.status === "skipped") {
        status = "skipped";
      } else {
        // A success behind the cursor that took one attempt is what the cursor already says.
        if (behind && tries <= 1) return;
        status = "succeeded";
      }
      sql`INSERT INTO deliveries (handler, seq, last_seq, status, tries, last_error, next_attempt_at, completed_at, dead_reported)
          VALUES (${handler}, ${seq}, ${seq}, ${status}, ${tries}, ${row.last_error}, ${nextAttemptAt},
                  ${status === "dead" ? (row.dead_at ?? row.completed_at) : row.completed_at}, ${reported})`;
    });
  }
  sql`INSERT INTO failures (handler, seq, attempt, started_at, duration_ms, outcome, status_code, error, next_delay_ms, batch_size)
      SELECT o.handler, o.event_seq, a.attempt, a.started_at, a.duration_ms, a.outcome, a.status_code, a.error, a.next_delay_ms, a.batch_size
      FROM attempts a JOIN outbox o ON o.id = a.outbox_id WHERE a.outcome IN ('retry', 'dead') ORDER BY a.id`;
  insertHead(db, {
    tenant: entity.tenant,
    entity: { type: entity.type, id: entity.id },
    version: Number(entity.version),
    createdAt: Number(entity.created_at),
    updatedAt: Number(entity.updated_at),
    lastSeq,
    state,
    progress,
    timers,
  });
}
