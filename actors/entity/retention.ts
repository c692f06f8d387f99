// Retention: the events past the tenant's windows (`/v1/settings`) that every handler has settled
// are compacted away; the state they merged into stays. Their ids go into a digest (a 64-bit hash
// each, sorted, in 64 buckets of one row), so a late repeat is still answered `duplicate`. The
// content check needs the content, so a repeat of a compacted id with other content is also a
// `duplicate` (not `409`), and its seq is no longer known (answered as 0).
import { PAYLOAD_MARK, refOf } from "../../src/payloads.ts";
import type { TenantSettings } from "../../src/control/settings.ts";
import type { Db } from "../shared/sql.ts";
import type { EntityStore } from "./store.ts";

// 16 buckets, by a hash's top 4 bits: a compaction rewrites at most 16 rows (a quarter of a row per
// event in a batch of 64), and a bucket holds up to MAX_BUCKET hashes (under the 2 MB a value may
// be here), some 3.8 million compacted ids per entity; past that the events stay instead.
const DIGEST = `CREATE TABLE IF NOT EXISTS forgotten (bucket INTEGER PRIMARY KEY, hashes BLOB NOT NULL) WITHOUT ROWID`;
/**
 * Compaction waits until this many events are past a window, so a steady stream does not rewrite
 * the digest for one event each turn; an event past the time window by WAKE_GRACE_MS goes anyway.
 */
const MIN_BATCH = 64;
const MAX_BUCKET = 240_000;
/** Events compacted per turn at most: the rest go next turn. */
const MAX_BATCH = 1_000;
const DAY_MS = 86_400_000;
/** How long after an event leaves the time window an idle entity wakes to compact it (and whatever left with it). */
const WAKE_GRACE_MS = 3_600_000;

/**
 * A 64-bit hash of an id: two 32-bit multiply-xorshift lanes that mix into each other at the end.
 * Not cryptographic; ids come from the tenant itself, and a collision can only make one of its own
 * later ids, within one entity, look like a repeat (odds about n / 2^64).
 */
export function idHash(id: string): bigint {
  let a = 0x9e3779b9;
  let b = 0x85ebca6b;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x85ebca77);
    b = Math.imul(b ^ c, 0xc2b2ae3d);
  }
  a = Math.imul(a ^ (a >>> 16), 0x7feb352d) ^ Math.imul(b ^ (b >>> 15), 0x846ca68b);
  b = Math.imul(b ^ (b >>> 16), 0x7feb352d) ^ Math.imul(a ^ (a >>> 15), 0x846ca68b);
  return (BigInt(a >>> 0) << 32n) | BigInt(b >>> 0);
}

const bucketOf = (hash: bigint): number => Number(hash >> 60n);

function decode(blob: ArrayBuffer | Uint8Array): BigUint64Array {
  const bytes = blob instanceof Uint8Array ? blob : new Uint8Array(blob);
  // Copied: a view straight onto SQLite's buffer need not be 8-byte aligned.
  return new BigUint64Array(bytes.slice().buffer, 0, bytes.byteLength / 8);
}

function contains(sorted: BigUint64Array, hash: bigint): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === hash) return true;
    if (v < hash) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

export class Retention {
  private readonly db: Db;

  constructor(private readonly store: EntityStore) {
    this.db = store.db;
  }

  /** Whether `id` was the id of an event compacted away. */
  forgot(id: string): boolean {
    if (!this.store.head?.compacted) return false;
    const hash = idHash(id);
    const row = this.db.all<{ hashes: ArrayBuffer }>(`SELECT hashes FROM forgotten WHERE bucket = ?`, bucketOf(hash))[0];
    return row !== undefined && contains(decode(row.hashes), hash);
  }

  /**
   * Compacts what is past a window and settled for every handler (behind every cursor, with no
   * pending retry or replay and no dead letter, which may yet be replayed). How many events went.
   */
  compact(settings: TenantSettings, now: number): { events: number; unusedPayloads: string[] } {
    const head = this.store.existingHead;
    // Objects kept for a state value that a newer event has since replaced: free whether or not
    // anything is compacted this turn (a quiet entity would otherwise keep them until its next event).
    const none = { events: 0, unusedPayloads: this.unpin() };
    const { days, eventsPerEntity } = settings.retention;
    if (days === null && eventsPerEntity === null) return none;
    const settled = this.settledThrough();
    const countBound = eventsPerEntity === null ? 0 : head.lastSeq - eventsPerEntity;
    const cutoff = days === null ? 0 : now - days * DAY_MS;
    const held = this.held(settled);
    const rows = this.db
      .all<{ seq: number; id: string; received_at: number; stored: string | null }>(
        `SELECT seq, id, received_at, CASE WHEN instr(data, '${PAYLOAD_MARK}') > 0 THEN data END AS stored
         FROM events WHERE seq > 0 AND seq <= ? AND (seq <= ? OR received_at < ?) ORDER BY seq LIMIT ?`,
        settled,
        countBound,
        cutoff,
        MAX_BATCH + held.size,
      )
      .filter((r) => !held.has(Number(r.seq)))
      .slice(0, MAX_BATCH);
    if (rows.length === 0) return none;
    const overdue = days !== null && Number(rows[0]!.received_at) < cutoff - WAKE_GRACE_MS;
    if (rows.length < MIN_BATCH && !overdue) return none;
    const digest = this.merged(rows.map((r) => idHash(r.id)));
    if (!digest) return none;
    // Objects of the events that go (large data in R2): deleted once gone from the log, except
    // those a state value still points at, kept (pinned) until no value does.
    const inState = new Set(Object.values(head.state).flatMap(([value]) => refOf(value)?.key ?? []));
    const released = [...(head.pinned ?? []), ...rows.flatMap((r) => (r.stored === null ? [] : (refOf(JSON.parse(r.stored))?.key ?? [])))];
    const pinned = released.filter((key) => inState.has(key));
    const unusedPayloads = released.filter((key) => !inState.has(key));
    this.store.update(() => {
      this.db.tables.make("forgotten", [DIGEST]);
      for (const [bucket, hashes] of digest) {
        this.db.sql`INSERT INTO forgotten (bucket, hashes) VALUES (${bucket}, ${hashes.buffer as ArrayBuffer})
                    ON CONFLICT (bucket) DO UPDATE SET hashes = excluded.hashes`;
      }
      const last = Number(rows[rows.length - 1]!.seq);
      for (const r of rows) this.db.sql`DELETE FROM events WHERE seq = ${Number(r.seq)}`;
      if (this.store.hasExceptions) {
        // Settled rows of what went (held ones were never taken); failures of those events too.
        const first = Number(rows[0]!.seq);
        this.db.sql`DELETE FROM deliveries WHERE seq >= ${first} AND last_seq <= ${last} AND status IN ('succeeded', 'skipped')
                    AND NOT EXISTS (SELECT 1 FROM events e WHERE e.seq BETWEEN deliveries.seq AND deliveries.last_seq AND e.seq > 0)`;
        this.db.sql`DELETE FROM failures WHERE seq >= ${first} AND seq <= ${last} AND NOT EXISTS (SELECT 1 FROM events e WHERE e.seq = failures.seq)`;
      }
      head.compacted = { events: (head.compacted?.events ?? 0) + rows.length, through: Math.max(head.compacted?.through ?? 0, last) };
      if (pinned.length > 0) head.pinned = pinned;
      else delete head.pinned;
    });
    return { events: rows.length, unusedPayloads };
  }

  /** Forgets pinned objects no state value points at any more, and answers their keys (to delete). */
  private unpin(): string[] {
    const head = this.store.existingHead;
    if (!head.pinned?.length) return [];
    const inState = new Set(Object.values(head.state).flatMap(([value]) => refOf(value)?.key ?? []));
    const unused = head.pinned.filter((key) => !inState.has(key));
    if (unused.length === 0) return [];
    this.store.update(() => {
      const kept = head.pinned!.filter((key) => inState.has(key));
      if (kept.length > 0) head.pinned = kept;
      else delete head.pinned;
    });
    return unused;
  }

  /**
   * When an idle entity should wake to compact by the time window: an hour after its oldest
   * compactable event leaves it. Null when nothing would be compactable by time.
   */
  wakeAt(settings: TenantSettings, now: number): number | null {
    const { days } = settings.retention;
    if (days === null || !this.store.head) return null;
    const settled = this.settledThrough();
    const held = this.held(settled);
    const oldest = this.db
      .all<{ seq: number; received_at: number }>(`SELECT seq, received_at FROM events WHERE seq > 0 AND seq <= ? ORDER BY seq LIMIT ?`, settled, held.size + 1)
      .find((r) => !held.has(Number(r.seq)));
    if (!oldest) return null;
    // Never sooner than a minute: a turn that could not compact (a write failed) does not spin.
    return Math.max(Number(oldest.received_at) + days * DAY_MS + WAKE_GRACE_MS, now + 60_000);
  }

  /** Every handler has settled the log through here (a paused handler holds it too). */
  private settledThrough(): number {
    const head = this.store.existingHead;
    return Math.min(head.lastSeq, ...Object.values(head.progress).map((p) => (p.lease ? Math.min(p.through, p.lease.seqs[0]! - 1) : p.through)));
  }

  /** Seqs through `through` with a pending or dead delivery: kept, whatever their age. */
  private held(through: number): Set<number> {
    if (!this.store.hasExceptions) return new Set();
    return new Set(this.db.all<{ seq: number }>(`SELECT seq FROM deliveries WHERE seq <= ? AND status IN ('pending', 'dead')`, through).map((r) => Number(r.seq)));
  }

  /** The buckets these hashes go into, each merged with what it holds and sorted; null if one would overflow. */
  private merged(hashes: readonly bigint[]): Map<number, BigUint64Array> | null {
    const byBucket = new Map<number, bigint[]>();
    for (const h of hashes) {
      const list = byBucket.get(bucketOf(h)) ?? [];
      list.push(h);
      byBucket.set(bucketOf(h), list);
    }
    const exists = this.db.tables.has("forgotten");
    const merged = new Map<number, BigUint64Array>();
    for (const [bucket, added] of byBucket) {
      const row = exists ? this.db.all<{ hashes: ArrayBuffer }>(`SELECT hashes FROM forgotten WHERE bucket = ?`, bucket)[0] : undefined;
      const all = new BigUint64Array([...(row ? decode(row.hashes) : []), ...added]).sort();
      if (all.length > MAX_BUCKET) return null;
      merged.set(bucket, all);
    }
    return merged;
  }
}
