import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantActor } from "../../actors/tenant-actor";
import { tenantActor } from "../../src/actors";
import { ConfigError } from "../../src/config";
import { keyPrefix, newApiKey, tenantOfApiKey } from "../../src/control/keys";
import { openSecret, sealSecret } from "../../src/control/secrets";
import { uniqueId } from "./helpers";

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
  it("name their tenant, whatever characters the name has", () => {
    for (const tenant of ["acme", "a_b-c", "x", "t_0_"]) {
      const key = newApiKey(tenant);
      expect(tenantOfApiKey(key)).toBe(tenant);
      expect(key.startsWith(keyPrefix(key))).toBe(true);
      expect(keyPrefix(key)).toBe(`ek_${tenant}_${key.slice(-48, -42)}`);
    }
    for (const text of ["dev_demo_key", `ek_Acme_${"a".repeat(48)}`, `ek_acme_${"a".repeat(47)}`, `ek__${"a".repeat(48)}`, `ek_acme_${"g".repeat(48)}`]) {
      expect(tenantOfApiKey(text), text).toBeNull();
    }
  });
});

describe("erasing a tenant", () => {
  it("erases its entities a page at a time, with progress readable until it is gone", async () => {
    const name = `erase-${uniqueId().toLowerCase().replace(/[^a-z0-9]/g, "")}`.slice(0, 60);
    const tenant = tenantActor(env, name);
    expect(await tenant.createTenant()).toMatchObject({ name, status: "active" });
    const entities = Array.from({ length: 120 }, (_, i) => ({ type: "lead", id: `L-${i}` }));
    await tenant.registerEntities(entities);
    await tenant.registerEntities(entities.slice(0, 10));
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
