import { describe, expect, it } from "vitest";
import { MAX_INLINE_CALLS_PER_ISOLATE } from "../../actors/shared/outbound.ts";
import { deliveries, eventually, leadActor, leadEvent, receiver, uniqueId } from "./helpers.ts";

const DELAY_MS = 400;

/** Most calls in flight at once, from each call's [end − delay, end] (a lower bound on its span). */
function maxOverlap(ends: number[]): number {
  const points = ends.flatMap((end) => [
    [end - DELAY_MS, 1],
    [end, -1],
  ] as const);
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let max = 0;
  for (const [, delta] of points) max = Math.max(max, (current += delta));
  return max;
}

describe("inline calls per isolate", () => {
  it("never exceed the cap when many actors fan out at once against a slow receiver, and all arrive", async () => {
    const run = `cap-${crypto.randomUUID()}`;
    const leads = Array.from({ length: 150 }, () => uniqueId());
    // Every call of this run (Slack, and the queued CRM calls) takes DELAY_MS at the receiver.
    await receiver.script(run, Array.from({ length: 400 }, () => ({ status: 200, delayMs: DELAY_MS })));
    const events = leads.map((leadId, i) => leadEvent(leadId, { id: `${run}-${i}`, type: "lead.updated", data: { id: leadId } }));
    await Promise.all(events.map((event, i) => leadActor(leads[i]!).ingest("demo", [event])));

    await eventually(
      async () => {
        const states = await Promise.all(events.map(async (e, i) => (await deliveries(leads[i]!, e.id)).slack?.status));
        return states.every((s) => s === "succeeded") ? true : undefined;
      },
      "every Slack delivery",
      30_000,
    );
    const slack = (await receiver.calls(run)).filter((c) => c.path === "/slack");
    // Every delivery arrived. On a loaded machine an attempt can pass HANDLER_TIMEOUT_MS (1.5 s in
    // the tests) and go again under its idempotency key: at least once, never a second key.
    expect(new Set(slack.map((c) => c.headers["idempotency-key"])).size).toBe(150);
    const overlap = maxOverlap(slack.map((c) => c.at));
    expect(overlap).toBeGreaterThan(1);
    expect(overlap).toBeLessThanOrEqual(MAX_INLINE_CALLS_PER_ISOLATE);
  }, 40_000);
});
