// Offboarding: erasing everything a tenant owns, a page of entities per alarm so a tenant of any
// size is erased in bounded steps, with progress readable throughout.
import { entityActor } from "../../src/rpc/actors.ts";
import { eraseTenantFromReadModels } from "../../src/handlers/read-models.ts";
import { deleteSpacePayloadsPage } from "../../src/payloads.ts";
import { forEachLimited } from "../shared/limited.ts";
import type { EntityList } from "./entities.ts";
import type { TenantRoom } from "./room.ts";

/** Entities erased per alarm, and at once. */
const ERASE_PAGE = 50;
const ERASE_CONCURRENCY = 8;

/**
 * Offboarding, a step per alarm: erases a page of the tenant's entities (each actor deletes its
 * storage, its objects in R2 and its alarm) and forgets them; when none is left, deletes the
 * space's objects in R2 (a page a step) and the tenant's part of every read model (the D1 mirror). True when all of that is gone;
 * the actor then drops the tenant itself.
 */
export async function eraseStep(room: TenantRoom, entities: EntityList): Promise<boolean> {
  const page = entities.entityPage(ERASE_PAGE);
  const space = room.space();
  if (page.length > 0) {
    const erased: typeof page = [];
    await forEachLimited(page, ERASE_CONCURRENCY, async (entity) => {
      await entityActor(room.env, space, entity).erase();
      erased.push(entity);
    });
    entities.forgetEntities(erased);
    room.control.countErased(erased.length);
    return false;
  }
  // Every object under the space's prefix, a listing page per step: those of entities the list
  // never had (or whose own erasure failed to reach R2) go too.
  if (!(await deleteSpacePayloadsPage(room.env, space))) return false;
  await eraseTenantFromReadModels(room.env, { tenant: room.tenant, space });
  return true;
}
