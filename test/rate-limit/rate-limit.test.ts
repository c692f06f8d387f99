import { env, exports } from "cloudflare:workers";
import { entityActor } from "../../src/actors";
import { describe, expect, it } from "vitest";

const post = (key: string, leadId: string) =>
  exports.default.fetch(
    new Request("http://localhost/v1/events", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ type: "lead.updated", data: { id: leadId } }),
    }),
  );

describe("per-tenant rate limit", () => {
  it("answers 429 with Retry-After past the limit, stores nothing then, and leaves other tenants alone", async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 8; i++) {
      const response = await post("busy_key", `L-busy-${i}`);
      statuses.push(response.status);
      if (response.status === 429) limited ??= response;
      else await response.arrayBuffer();
    }
    expect(statuses.slice(0, 5)).toEqual([202, 202, 202, 202, 202]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expect(limited!.headers.get("retry-after")).toBe("10");
    expect(await limited!.json()).toMatchObject({ error: { code: "rate_limited", message: expect.any(String) } });
    // The limited requests wrote nothing; another tenant is not limited by busy's traffic.
    for (const i of [5, 6, 7]) expect(await entityActor(env, "busy", { type: "lead", id: `L-busy-${i}` }).getEntity()).toBeNull();
    expect((await post("calm_key", "L-calm")).status).toBe(202);
  });
});
