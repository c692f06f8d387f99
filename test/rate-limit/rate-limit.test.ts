import { env, exports } from "cloudflare:workers";
import { entityActor } from "../../src/rpc/actors.ts";
import { describe, expect, it } from "vitest";

const post = (key: string, leadId: string) =>
  exports.default.fetch(
    new Request("http://localhost/v1/events", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ type: "lead.updated", data: { id: leadId } }),
    }),
  );

/**
 * The local Rate Limiting binding counts in fixed windows aligned to the wall clock
 * (floor(now / period)). A burst that straddled a boundary would be counted in two windows, so a
 * test that needs `spanMs` inside one window starts it in a fresh one when too little is left.
 */
async function withinOneWindow(periodMs: number, spanMs: number): Promise<void> {
  const left = periodMs - (Date.now() % periodMs);
  if (left < spanMs) await new Promise((resolve) => setTimeout(resolve, left + 20));
}

/**
 * A test may first wait up to 3 s for a fresh window, then runs its requests on a machine busy
 * with the other test files: more than vitest's default 5 s (CI once timed out here).
 */
const WAIT_AND_RUN_MS = 30_000;

describe("per-tenant rate limit", () => {
  it("answers 429 with Retry-After past the limit, stores nothing then, and leaves other tenants alone", async () => {
    await withinOneWindow(10_000, 3_000);
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
  }, WAIT_AND_RUN_MS);
});

describe("failed authentication", () => {
  const attempt = (authorization: string, address: string) =>
    exports.default.fetch(
      new Request("http://localhost/v1/entities/lead/L-x", { headers: { authorization, "cf-connecting-ip": address } }),
    );

  it("is limited per client address: 429 with Retry-After past the limit, while other addresses and valid keys still work", async () => {
    await withinOneWindow(60_000, 3_000);
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 5; i++) {
      const response = await attempt(`Bearer guess-${i}`, "203.0.113.7");
      statuses.push(response.status);
      if (response.status === 429) limited ??= response;
      else await response.arrayBuffer();
    }
    // The limit here is 3 failures a minute per address (vitest.config.ts).
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(limited!.headers.get("retry-after")).toBe("60");
    expect(await limited!.json()).toMatchObject({ error: { code: "rate_limited" } });
    expect((await attempt("Bearer guess-x", "198.51.100.9")).status).toBe(401);
    expect((await attempt("Bearer calm_key", "203.0.113.7")).status).toBe(404);
  }, WAIT_AND_RUN_MS);
});
