// Read models: copies of what entities hold, kept elsewhere by handlers (the D1 mirror; the read
// side's index). Each says how to erase an entity's part of it and a tenant's whole part, so the
// erasure of an entity (its tombstone's cleanup) and of a tenant (offboarding) reach every copy by
// walking this list, and a new read model is one more entry, never an edit to the erasure.
import { eraseEntityRows, eraseTenantRows, mirrorTablesOf } from "./database.ts";
import type { EntityRef } from "../types.ts";

/** Whose data is to go: the tenant (its name and its space) and, for an entity, which. */
export interface ErasureScope {
  tenant: string;
  space: string;
}

export interface ReadModel {
  name: string;
  /** Deletes one entity's part; `legacy` is what a tombstone written by an earlier release named for it. */
  eraseEntity(env: Cloudflare.Env, scope: ErasureScope & { entity: EntityRef }, legacy?: { mirrorTables?: readonly string[] }): Promise<void>;
  /** Deletes the tenant's whole part (offboarding, once its entities are erased). */
  eraseTenant(env: Cloudflare.Env, scope: ErasureScope): Promise<void>;
}

/** The D1 mirror (the `database` handler): a row per entity in its type's tables, and optionally per event. */
const D1_MIRROR: ReadModel = {
  name: "d1-mirror",
  async eraseEntity(env, { tenant, entity }, legacy) {
    if (env.DB) await eraseEntityRows(env.DB, tenant, entity, [...mirrorTablesOf(entity.type), ...(legacy?.mirrorTables ?? [])]);
  },
  async eraseTenant(env, { tenant }) {
    if (env.DB) await eraseTenantRows(env.DB, tenant);
  },
};

export const READ_MODELS: readonly ReadModel[] = [D1_MIRROR];

/** Erases one entity from every read model. */
export async function eraseEntityFromReadModels(env: Cloudflare.Env, scope: ErasureScope & { entity: EntityRef }, legacy?: { mirrorTables?: readonly string[] }): Promise<void> {
  for (const model of READ_MODELS) await model.eraseEntity(env, scope, legacy);
}

/** Erases a tenant from every read model. */
export async function eraseTenantFromReadModels(env: Cloudflare.Env, scope: ErasureScope): Promise<void> {
  for (const model of READ_MODELS) await model.eraseTenant(env, scope);
}
