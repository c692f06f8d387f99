import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.ts";
import { apiKeyDigest, tenants } from "../../src/control/tenants-config.ts";

// tenants() reads only TENANTS, so an env with just that field stands in for the whole Env.
const envWith = (TENANTS: string) => ({ TENANTS }) as unknown as Cloudflare.Env;

/** What parsing `raw` as TENANTS throws, or undefined. */
function configError(raw: string): unknown {
  try {
    tenants(envWith(raw));
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("tenant configuration", () => {
  it("names the bad path without quoting the value, which may be a secret", () => {
    const caught = configError('{"acme":{"apiKeys":["k"],"sources":{"s":{"scheme":"stripe","secret":987654321}}}}');
    expect(caught).toBeInstanceOf(ConfigError);
    expect(String(caught)).toContain("acme.sources.s.secret");
    expect(String(caught)).not.toContain("987654321");
  });

  it("maps every API key's SHA-256 digest to its tenant, keeps no key in plain text, and refuses tenant names that cannot name actors", async () => {
    const config = tenants(envWith('{"a":{"apiKeys":["k1","k2"]},"b":{"apiKeys":["k3","k3"]}}'));
    const keyDigests = await config.keyDigests;
    expect([...keyDigests]).toEqual([
      [await apiKeyDigest("k1"), "a"],
      [await apiKeyDigest("k2"), "a"],
      [await apiKeyDigest("k3"), "b"],
    ]);
    expect(await apiKeyDigest("k1")).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(config.tenants)).not.toMatch(/"k[123]"/);
    expect(() => tenants(envWith('{"Bad/Name":{"apiKeys":["k"]}}'))).toThrow(ConfigError);
    expect(() => tenants(envWith("{not json"))).toThrow(ConfigError);
  });

  it("refuses one API key listed under two tenants, naming the tenants but not the key", () => {
    const caught = configError('{"a":{"apiKeys":["shared-secret-key"]},"b":{"apiKeys":["other","shared-secret-key"]}}');
    expect(caught).toBeInstanceOf(ConfigError);
    expect(String(caught)).toContain("a and b");
    expect(String(caught)).not.toContain("shared-secret-key");
  });
});
