// TENANTS: the operator's static tenants, their API keys (kept only as digests), signed sources
// and destinations (each validated against its kind's schema, src/handlers/kinds.ts).
import { array, enums, object, optional, record, string, validate, type Infer, type Struct } from "superstruct";
import { ConfigError } from "../config.ts";
import { DESTINATION_KINDS } from "../handlers/kinds.ts";
import { isLocalDeployment } from "../local.ts";
import { bytesToHex } from "../crypto.ts";
import { SourceMappingSchema } from "../sources/mapping-schema.ts";
import { SCHEME_NAMES } from "../sources/schemes.ts";

/** A signed source, in TENANTS or stored: its scheme is one of the registry's (src/sources/schemes.ts). */
const SourceConfig = object({
  scheme: enums(SCHEME_NAMES),
  secret: string(),
  header: optional(string()),
  mapping: optional(SourceMappingSchema),
});

/** TENANTS destinations: per kind of the table (src/handlers/kinds.ts), that kind's schema. */
const destinationsSchema = () =>
  object(Object.fromEntries(DESTINATION_KINDS.map((k) => [k.kind, optional(k.schema)]))) as unknown as Struct<Record<string, Record<string, string>>, null>;

const tenantSchema = () =>
  object({
    apiKeys: array(string()),
    sources: optional(record(string(), SourceConfig)),
    signingSecret: optional(string()),
    destinations: optional(destinationsSchema()),
  });

export type TenantConfig = Infer<ReturnType<typeof tenantSchema>>;
export type TenantsConfig = Record<string, TenantConfig>;

// Built on first use, not at load: the kinds table comes from the handler registry.
let tenantsSchema: Struct<TenantsConfig, unknown> | undefined;

/** The local-only tenant used when `TENANTS` is unset; see README. */
const DEMO_TENANT = "demo";
const DEMO_API_KEY = "dev_demo_key";
const DEMO_TENANTS: TenantsConfig = { [DEMO_TENANT]: { apiKeys: [DEMO_API_KEY] } };

/** Tenant names become part of actor names (`tenant/type/id`), so they are kept simple. */
export const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;


let cachedTenants: { raw: string | undefined; local: boolean; tenants: TenantsConfig; keyDigests: Promise<Map<string, string>> } | undefined;

/**
 * Parses `TENANTS` once per isolate (re-parsed only when the raw value changes).
 * Unset means the demo tenant in local development (src/local.ts), and no tenant elsewhere. API keys are kept only as SHA-256 digests (`keyDigests`,
 * digest → tenant): the parsed tenants carry no keys, and a key listed under two tenants is a
 * configuration error rather than "last one wins".
 */
export function tenants(env: Cloudflare.Env): { tenants: TenantsConfig; keyDigests: Promise<Map<string, string>> } {
  const raw = env.TENANTS;
  const local = isLocalDeployment(env);
  if (cachedTenants && cachedTenants.raw === raw && cachedTenants.local === local) return cachedTenants;
  let parsed: unknown = local ? DEMO_TENANTS : {};
  if (raw !== undefined && raw !== "") {
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ConfigError("TENANTS is not valid JSON");
    }
  }
  tenantsSchema ??= record(string(), tenantSchema()) as unknown as Struct<TenantsConfig, unknown>;
  const [error, value] = validate(parsed, tenantsSchema);
  // Only the path and the kind of problem: superstruct's message quotes the value, which may be a secret.
  if (error) throw new ConfigError(`TENANTS is invalid at ${error.path.join(".") || "(root)"} (expected ${error.type})`);
  const owners = new Map<string, string>();
  for (const [name, tenant] of Object.entries(value)) {
    if (!TENANT_NAME.test(name)) throw new ConfigError(`TENANTS has an invalid tenant name: ${name}`);
    for (const key of tenant.apiKeys) {
      const owner = owners.get(key);
      // Names the tenants, never the key.
      if (owner !== undefined && owner !== name) throw new ConfigError(`TENANTS lists one API key under two tenants: ${owner} and ${name}`);
      owners.set(key, name);
    }
    tenant.apiKeys = [];
  }
  const keyDigests = Promise.all([...owners].map(async ([key, name]) => [await apiKeyDigest(key), name] as const)).then((pairs) => new Map(pairs));
  cachedTenants = { raw, local, tenants: value, keyDigests };
  return cachedTenants;
}

/**
 * Digests of keys this isolate saw lately: a client sends the same key with every request.
 * Bounded, and emptied when full, so a flood of made-up keys costs memory no more than it costs
 * digests.
 */
const recentDigests = new Map<string, string>();
const RECENT_DIGESTS = 256;

/** Hex SHA-256 of an API key: what is kept and compared, so a lookup never compares key bytes. */
export async function apiKeyDigest(key: string): Promise<string> {
  const known = recentDigests.get(key);
  if (known !== undefined) return known;
  const digest = bytesToHex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  if (recentDigests.size >= RECENT_DIGESTS) recentDigests.clear();
  recentDigests.set(key, digest);
  return digest;
}

/** A tenant's configuration by name; own properties only, so `__proto__` is just an unknown name. */
export function staticTenant(env: Cloudflare.Env, tenant: string): TenantConfig | undefined {
  const all = tenants(env).tenants;
  return Object.hasOwn(all, tenant) ? all[tenant] : undefined;
}
