import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantActor } from "../../actors/tenant-actor.ts";
import { tenantActor } from "../../src/rpc/actors.ts";
import { ConfigError } from "../../src/config.ts";
import { hasValidTag, keyPrefix, newApiKey, tenantOfApiKey } from "../../src/control/keys.ts";
import { tenantSpace } from "../../src/rpc/names.ts";
import { openSecret, sealSecret } from "../../src/control/secrets.ts";
import { uniqueId } from "./helpers.ts";

const withKey = (key: string | undefined): Cloudflare.Env => ({ ...env, SECRETS_KEY: key });
const KEY_A = btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => i)));
const KEY_B = btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => 255 - i)));

describe("sealed secrets", () => {
  it("open only under the same key and for the same tenant and field", async () => {
    const sealed = await sealSecret(withKey(KEY_A), "acme/destination/crm", "crm-secret-1234");
    expect(sealed).toMatch(/^v1:/);
    expect(sealed).not.toContain("crm-secret");
    expect(await openSecret(withKey(KEY_A), "acme/destination/crm", sealed)).toBe("crm-secret-1234");
    await expect(openSecret(withKey(KEY_A), "globex/destination/crm", sealed)).rejects.toThrow();
    await expect(openSecret(withKey(KEY_B), "acme/destination/crm", sealed)).rejects.toThrow();
    // Random IVs: the same secret never seals to the same bytes twice.
    expect(await sealSecret(withKey(KEY_A), "acme/destination/crm", "crm-secret-1234")).not.toBe(sealed);
  });

  it("refuses a SECRETS_KEY that is not base64 of 32 bytes as the operator's configuration error", async () => {
    await expect(sealSecret(withKey("c2hvcnQ="), "t/x", "v")).rejects.toBeInstanceOf(ConfigError);
    // Unset is the development key, which works (with a warning in the log).
    expect(await openSecret(withKey(undefined), "t/x", await sealSecret(withKey(undefined), "t/x", "v"))).toBe("v");
  });
});

describe("stored tenants' API keys", () => {
  it("name their tenant, whatever characters the name has", async () => {
    for (const tenant of ["acme", "a_b-c", "x", "t_0_"]) {
      const key = await newApiKey(env, tenant);
      expect(tenantOfApiKey(key)).toBe(tenant);
      expect(await hasValidTag(env, key)).toBe(true);
      expect(key.startsWith(keyPrefix(key))).toBe(true);
      expect(keyPrefix(key)).toBe(`ek_${tenant}_${key.slice(-48, -42)}`);
    }
    for (const text of ["dev_demo_key", `ek_Acme_${"a".repeat(48)}`, `ek_acme_${"a".repeat(47)}`, `ek__${"a".repeat(48)}`, `ek_acme_${"g".repeat(48)}`]) {
      expect(tenantOfApiKey(text), text).toBeNull();
    }
  });

  it("carry a tag only this deployment's SECRETS_KEY makes: a forged or altered key fails without a lookup", async () => {
    const key = await newApiKey(withKey(KEY_A), "acme");
    expect(await hasValidTag(withKey(KEY_A), key)).toBe(true);
    // Another deployment's key, a changed random part, a changed tenant, a random tag: all refused.
    expect(await hasValidTag(withKey(KEY_B), key)).toBe(false);
    const flipped = `${key.slice(0, 10)}${key[10] === "a" ? "b" : "a"}${key.slice(11)}`;
    expect(await hasValidTag(withKey(KEY_A), flipped)).toBe(false);
    expect(await hasValidTag(withKey(KEY_A), key.replace("ek_acme_", "ek_acmf_"))).toBe(false);
    expect(await hasValidTag(withKey(KEY_A), `ek_acme_${"0".repeat(48)}`)).toBe(false);
  });

  it("are not made, nor secrets sealed, outside local development while SECRETS_KEY is unset", async () => {
    const deployed: Cloudflare.Env = { ...env, SECRETS_KEY: undefined, LOCAL_DEV: undefined };
    await expect(newApiKey(deployed, "acme")).rejects.toBeInstanceOf(ConfigError);
    await expect(sealSecret(deployed, "acme/destination/crm", "x")).rejects.toBeInstanceOf(ConfigError);
    // What the development key sealed before still opens, so an existing deployment keeps working.
    const before = await sealSecret(withKey(undefined), "acme/destination/crm", "old");
    expect(await openSecret(deployed, "acme/destination/crm", before)).toBe("old");
  });
});

describe("erasing a tenant", () => {
  it("erases its entities a page at a time, with progress readable until it is gone", async () => {
    const name = `erase-${uniqueId().toLowerCase().replace(/[^a-z0-9]/g, "")}`.slice(0, 60);
    const tenant = tenantActor(env, name);
    expect(await tenant.createTenant()).toMatchObject({ name, status: "active" });
    const entities = Array.from({ length: 120 }, (_, i) => ({ type: "lead", id: `L-${i}` }));
    const created = await tenant.describe();
    const space = tenantSpace(name, created);
    expect(space).toMatch(new RegExp(`^${name}~[0-9a-f]{16}$`));
    await tenant.registerEntities(space, entities);
    await tenant.registerEntities(space, entities.slice(0, 10));
    // A write addressed to another space (a stale view of the tenant) changes nothing.
    await tenant.registerEntities(name, [{ type: "lead", id: "stale" }]);
    expect(await tenant.describe()).toMatchObject({ entities: 120, keys: 0 });
    expect(await tenant.eraseTenant()).toMatchObject({ status: "erasing", progress: { erased: 0, total: 120 } });
    expect((await tenant.snapshot()).record?.status).toBe("erasing");

    const stub = env.TENANT.getByName(name);
    const seen: number[] = [];
    for (let turn = 0; turn < 10; turn++) {
      if (!(await runDurableObjectAlarm(stub))) break;
      const described = await tenant.describe();
      if (!described) break;
      seen.push(described.progress!.erased);
    }
    expect(seen).toEqual([50, 100, 120]);
    expect(await tenant.describe()).toBeNull();
    const after = await runInDurableObject(stub, (instance: TenantActor, state) => {
      void instance;
      return state.storage.sql.exec(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name <> 'sqlite_sequence'`).toArray();
    });
    expect(after).toEqual([]);
  });
});
