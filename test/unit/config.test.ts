import { describe, expect, it } from "vitest";
import { ConfigError, tenants } from "../../src/config";

// tenants() reads only TENANTS, so an env with just that field stands in for the whole Env.
const envWith = (TENANTS: string) => ({ TENANTS }) as unknown as Cloudflare.Env;

describe("tenant configuration", () => {
  it("names the bad path without quoting the value, which may be a secret", () => {
    let caught: unknown;
    try {
      tenants(envWith('{"acme":{"apiKeys":["k"],"sources":{"s":{"scheme":"stripe","secret":987654321}}}}'));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(String(caught)).toContain("acme.sources.s.secret");
    expect(String(caught)).not.toContain("987654321");
  });

  it("maps every API key to its tenant and refuses tenant names that cannot name actors", () => {
    const { keys } = tenants(envWith('{"a":{"apiKeys":["k1","k2"]},"b":{"apiKeys":["k3"]}}'));
    expect([...keys]).toEqual([["k1", "a"], ["k2", "a"], ["k3", "b"]]);
    expect(() => tenants(envWith('{"Bad/Name":{"apiKeys":["k"]}}'))).toThrow(ConfigError);
    expect(() => tenants(envWith("{not json"))).toThrow(ConfigError);
  });
});
