import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { entityActor } from "../../src/actors";
import { groupCommit } from "../../src/group-commit";
import type { IncomingEvent } from "../../src/types";
import { leadEvent, uniqueId } from "./helpers";

/** The real actor call, recording how many events each call carried. */
function recordingGroupCommit() {
  const sizes: number[] = [];
  const ingest = groupCommit(async (e, tenant, events: IncomingEvent[]) => {
    sizes.push(events.length);
    return entityActor(e, tenant, events[0]!.entity).ingest(tenant, events);
  });
  return { sizes, ingest };
}

describe("group commit at the router", () => {
  it("sends the first event at once and the ones that arrive meanwhile together, each caller getting its own answer", async () => {
    const { sizes, ingest } = recordingGroupCommit();
    const leadId = uniqueId();
    const events = Array.from({ length: 20 }, (_, i) => leadEvent(leadId, { type: "lead.updated", data: { id: leadId, n: i }, fingerprint: `f${i}` }));
    const results = await Promise.all(events.map((event) => ingest(env, "demo", event)));
    expect(results.map((r) => r.id)).toEqual(events.map((e) => e.id));
    expect(results.every((r) => r.status === "accepted")).toBe(true);
    expect(new Set(results.map((r) => r.seq)).size).toBe(20);
    // The first went alone; the other 19 waited for it and went in one call.
    expect(sizes).toEqual([1, 19]);
  });

  it("answers a duplicate and a conflicting id inside one group as a lone call would", async () => {
    const { sizes, ingest } = recordingGroupCommit();
    const leadId = uniqueId();
    const first = leadEvent(leadId, { type: "lead.updated", data: { id: leadId }, fingerprint: "a" });
    const results = await Promise.all([
      ingest(env, "demo", first),
      ingest(env, "demo", { ...first }),
      ingest(env, "demo", { ...first, fingerprint: "b" }),
      ingest(env, "demo", leadEvent(leadId, { type: "lead.updated", data: { id: leadId }, fingerprint: "c" })),
    ]);
    expect(results.map((r) => r.status)).toEqual(["accepted", "duplicate", "conflict", "accepted"]);
    expect(sizes).toEqual([1, 3]);
  });

  it("keeps entities apart, and lets a quiet entity's event go at once", async () => {
    const { sizes, ingest } = recordingGroupCommit();
    const [a, b] = [uniqueId(), uniqueId()];
    await Promise.all([ingest(env, "demo", leadEvent(a, { type: "lead.updated", data: { id: a } })), ingest(env, "demo", leadEvent(b, { type: "lead.updated", data: { id: b } }))]);
    expect(sizes).toEqual([1, 1]);
    await ingest(env, "demo", leadEvent(a, { type: "lead.updated", data: { id: a } }));
    expect(sizes).toEqual([1, 1, 1]);
  });
});
