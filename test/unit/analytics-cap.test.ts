import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EntityActor } from "../../actors/entity-actor.ts";
import { MAX_POINTS_PER_INVOCATION } from "../../src/handlers/analytics.ts";
import { deliveries, eventually, leadEvent, leadStub, uniqueId } from "./helpers.ts";

/** Cloudflare's limit: the 251st writeDataPoint of one invocation throws. */
const PLATFORM_LIMIT = 250;

/**
 * Miniflare's Analytics Engine accepts any number of points and never fails, so it cannot show a
 * double count. This dataset behaves as the deployed one does at its limit (it throws past 250
 * points in one invocation), can be told to fail once part-way, and records every point written.
 */
function limitedDataset(options: { failAtPoint?: number } = {}) {
  const written: string[] = [];
  let inInvocation = 0;
  let maxInInvocation = 0;
  let failAt = options.failAtPoint;
  return {
    written,
    maxInInvocation: () => maxInInvocation,
    newInvocation: () => (inInvocation = 0),
    dataset: {
      writeDataPoint(point?: AnalyticsEngineDataPoint) {
        if (inInvocation >= PLATFORM_LIMIT) throw new Error("writeDataPoint: limit of 250 data points per invocation exceeded");
        if (failAt !== undefined && written.length + 1 === failAt) {
          failAt = undefined;
          throw new Error("writeDataPoint: transient failure");
        }
        inInvocation++;
        maxInInvocation = Math.max(maxInInvocation, inInvocation);
        written.push(String(point?.blobs?.[3]));
      },
    },
  };
}

/**
 * Ingests `count` lead.updated events into one actor whose only configured handler is analytics,
 * writing to `dataset`, and counts each alarm as one invocation of that dataset.
 */
async function ingestWithDataset(leadId: string, count: number, data: ReturnType<typeof limitedDataset>) {
  const events = Array.from({ length: count }, (_, i) => leadEvent(leadId, { id: `evt_${leadId}_${i}`, type: "lead.updated", data: { id: leadId, n: i } }));
  const restore = await runInDurableObject(leadStub(leadId), async (instance: EntityActor) => {
    // Only analytics is configured, and it writes to the limited dataset.
    const only = { ...env, SLACK_WEBHOOK_URL: undefined, CRM_API_URL: undefined, DB: undefined, ANALYTICS: data.dataset };
    Object.defineProperty(instance, "env", { value: only, configurable: true });
    // Each alarm of this instance is one invocation, as on Cloudflare.
    const proto = Object.getPrototypeOf(instance) as { alarm: (this: EntityActor) => Promise<void> };
    const original = proto.alarm;
    proto.alarm = function (this: EntityActor) {
      if (this === instance) data.newInvocation();
      return original.call(this);
    };
    for (let i = 0; i < events.length; i += 100) await instance.ingest("demo", events.slice(i, i + 100));
    return () => (proto.alarm = original);
  });
  return { events, restore };
}

/** Waits for the last event's analytics delivery: per-handler order means every earlier one is done. */
async function lastDelivered(leadId: string, events: ReadonlyArray<{ id: string }>): Promise<void> {
  await eventually(
    async () => ((await deliveries(leadId, events[events.length - 1]!.id)).analytics?.status === "succeeded" ? true : undefined),
    "every analytics delivery",
    20_000,
  );
}

describe("Analytics Engine deliveries", () => {
  it("stay under the per-invocation cap and write each event's point exactly once", async () => {
    const leadId = uniqueId();
    const data = limitedDataset();
    const { events, restore } = await ingestWithDataset(leadId, 300, data);
    try {
      await lastDelivered(leadId, events);
      expect(data.maxInInvocation()).toBeLessThanOrEqual(MAX_POINTS_PER_INVOCATION);
      expect(data.written).toHaveLength(300);
      expect(new Set(data.written).size).toBe(300);
      expect(data.written).toEqual(events.map((e) => e.id));
    } finally {
      restore();
    }
  });

  it("count a batch that failed part-way once: the points written succeed, only the rest are retried", async () => {
    const leadId = uniqueId();
    const data = limitedDataset({ failAtPoint: 30 });
    const { events, restore } = await ingestWithDataset(leadId, 60, data);
    try {
      await lastDelivered(leadId, events);
      expect(data.written).toEqual(events.map((e) => e.id));
      // The 29 written before the failure took one attempt; the 30th needed a second.
      expect((await deliveries(leadId, events[28]!.id)).analytics).toMatchObject({ status: "succeeded", attempts: 1 });
      expect((await deliveries(leadId, events[29]!.id)).analytics).toMatchObject({ status: "succeeded", attempts: 2, lastError: expect.stringContaining("transient") });
    } finally {
      restore();
    }
  });
});
