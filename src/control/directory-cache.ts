// What the router knows of the tenant directory without asking it per request. Lookups that an
// unauthenticated or unproven caller can trigger (a forged key, a signed-source post naming any
// tenant) are answered from these per-isolate copies, refreshed at a bounded rate, so no such
// caller can make the router create or call an actor per name it invents.
import { directory } from "../rpc/actors.ts";

/** How long the list of tenants with pre-0.5 (untagged) keys is trusted. */
const LEGACY_TTL_MS = 60_000;
/** How long the list of stored tenants is trusted, and how often a miss may refresh it. */
const STORED_TTL_MS = 60_000;
const STORED_MISS_REFRESH_MS = 1_000;

let legacy: { at: number; names: Set<string> } | undefined;
let stored: { at: number; names: Set<string> } | undefined;

/** Whether untagged keys may be `tenant`'s: it was stored before keys had tags (read at most once a minute). */
export async function hasLegacyKeys(env: Cloudflare.Env, tenant: string): Promise<boolean> {
  if (!legacy || Date.now() - legacy.at > LEGACY_TTL_MS) legacy = { at: Date.now(), names: new Set(await directory(env).legacyKeyTenants()) };
  return legacy.names.has(tenant);
}

/**
 * Whether `tenant` is a stored, active tenant as the directory listed it at most a minute ago. A
 * name missing from the copy refreshes it at most once a second per isolate (a tenant created a
 * moment ago is found), however many names a caller invents.
 */
export async function isStoredTenant(env: Cloudflare.Env, tenant: string): Promise<boolean> {
  const now = Date.now();
  const stale = !stored || now - stored.at > STORED_TTL_MS;
  const missRefresh = stored !== undefined && !stored.names.has(tenant) && now - stored.at > STORED_MISS_REFRESH_MS;
  if (stale || missRefresh) {
    const names = (await directory(env).list()).filter((t) => t.status === "active").map((t) => t.name);
    stored = { at: now, names: new Set(names) };
  }
  return stored!.names.has(tenant);
}
