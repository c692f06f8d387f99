// Offboarding: erasing everything a tenant owns, a page of entities per alarm so a tenant of any
// size is erased in bounded steps, with progress readable throughout.
import { entityActor } from "../../src/rpc/actors.ts";
import { eraseTenantRows } from "../../src/handlers/database.ts";
import { deleteSpacePayloadsPage } from "../../src/payloads.ts";
import type { ControlStore } from "./control.ts";

/** Entities erased per alarm, and at once. */
const ERASE_PAGE = 50;
const ERASE_CONCURRENCY = 8;

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * One step of a tenant's erasure: erases a page of its entities (each actor deletes all of its
 * storage and its alarm) and forgets them. When none is left, deletes the space's objects in R2
 * (a page a step) and the tenant's D1 rows.
 * Returns true when the entities and D1 rows are gone; the caller then drops the tenant itself.
 */
export async function eraseStep(env: Cloudflare.Env, control: ControlStore, tenant: string, space: string): Promise<boolean> {
  const page = control.entityPage(ERASE_PAGE);
  if (page.length > 0) {
    const erased: typeof page = [];
    await forEachLimited(page, ERASE_CONCURRENCY, async (entity) => {
      await entityActor(env, space, entity).erase();
      erased.push(entity);
    });
    control.forgetEntities(erased);
    control.countErased(erased.length);
    return false;
  }
  // Every object under the space's prefix, a listing page per step: those of entities the list
  // never had (or whose own erasure failed to reach R2) go too.
  if (!(await deleteSpacePayloadsPage(env, space))) return false;
  if (env.DB) await eraseTenantRows(env.DB, tenant);
  return true;
}
