// The tenant's dead letters as a room of its actor: entities report theirs into the index
// (dead-letter-index.ts), the API lists them, and a replay puts them back on their entities.
import { deploymentSettings } from "../../src/config.ts";
import { deliveryRefOf, type DeadLetterEntry, type DeadLetterFilter, type DeadLetterPage } from "../../src/delivery/policy/dead-letters.ts";
import { entityActor } from "../../src/rpc/actors.ts";
import type { EntityRef } from "../../src/types.ts";
import { DeadLetterIndex, type DeadLetterRow } from "./dead-letter-index.ts";
import { forEachLimited } from "../shared/limited.ts";
import type { TenantRoom } from "./room.ts";

/** Dead letters read per page of a replay, and entity replays in flight at once. */
const REPLAY_PAGE = 200;
const REPLAY_CONCURRENCY = 8;

export class DeadLetters {
  readonly index: DeadLetterIndex;

  constructor(private readonly room: TenantRoom) {
    this.index = new DeadLetterIndex(room.db);
  }

  async record(space: string, entries: DeadLetterEntry[]): Promise<void> {
    // A dead letter of an erased incarnation is dropped: the entity stops reporting, nothing lands.
    if (!this.room.writable(space)) return;
    this.room.transaction(() => this.index.record(entries));
    // Alerts go out from the alarm, never inline: at most one per interval, the rest summarised.
    await this.room.wakeBy(Math.max(Date.now(), this.index.lastAlertAt() + deploymentSettings(this.room.env).alertIntervalMs));
  }

  list(limit: number, cursor: number): DeadLetterPage {
    return this.index.page(limit, cursor);
  }

  /** One erased entity's entries go. Inside a transaction. */
  forgetEntity(entity: EntityRef): void {
    this.index.forgetEntity(entity);
  }

  /**
   * Replays the matching dead letters on their entities, a page at a time with a bounded number of
   * entity calls in flight, so a tenant with a million dead letters costs bounded memory and
   * never floods its actors. Only dead letters indexed before the replay started are taken: one
   * that dies again during the replay is re-indexed behind that mark and waits for the next one.
   * Progress is logged per page.
   */
  async replay(filter: DeadLetterFilter): Promise<number> {
    const space = this.room.space();
    const until = this.index.lastN();
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
          // Awaited before the sum: `replayed += await …` would read it before the call and lose its siblings' counts.
          const count = await entityActor(this.room.env, space, entity).replay(rows.map((r) => deliveryRefOf(r.id)).filter((ref) => ref !== null));
          replayed += count;
          this.forgetReplayed(rows);
        } catch (err) {
          // Left in the index: a later replay tries again.
          this.room.log("error", "replay failed for entity", { entity, error: String(err) });
        }
      });
      this.room.log("info", "dead-letter replay progress", { matched, replayed });
    }
    return replayed;
  }

  /** One page of the dead letters matching `filter`, with `cursor < n <= until`. */
  matchingPage(filter: DeadLetterFilter, cursor: number, until: number, limit: number): DeadLetterRow[] {
    return this.index.matching(filter, cursor, until, limit);
  }

  /** Removes replayed rows from the index (see DeadLetterIndex.forget). */
  forgetReplayed(rows: ReadonlyArray<Pick<DeadLetterRow, "id" | "n">>): void {
    this.room.transaction(() => this.index.forget(rows));
  }
}
