// The operator's admin key: ADMIN_API_KEY, else a development key that works in local development
// only (src/local.ts). The router checks a presented key against it (src/router/auth.ts); the tenant
// actor checks the live feed's watchers that opened with it.
import { isLocalDeployment } from "../local.ts";
import { apiKeyDigest } from "./tenants-config.ts";

/** The admin key while ADMIN_API_KEY is unset, on loopback only. */
export const DEV_ADMIN_KEY = "dev_admin_key";

/**
 * The digest of the admin key in force for an actor (no request at hand): ADMIN_API_KEY, else the
 * development key in a local deployment; null when there is none.
 */
export async function currentAdminDigest(env: Cloudflare.Env): Promise<string | null> {
  if (env.ADMIN_API_KEY) return apiKeyDigest(env.ADMIN_API_KEY);
  return isLocalDeployment(env) ? apiKeyDigest(DEV_ADMIN_KEY) : null;
}
