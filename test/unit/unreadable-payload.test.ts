// A stored event whose data in R2 can no longer be read (its object gone, or not matching its
// hash): its deliveries fail their attempts with backoff and end dead, never a loop, and the
// entity's views still answer, saying what they cannot show. 0.5.0 failed the whole alarm turn
// instead, re-armed at once (some 250 turns a second), and answered 503 for the entity for good.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { offloadPayloads } from "../../src/payloads.ts";
import { deliveries, eventually, leadActor, leadEvent, receiver, uniqueId } from "./helpers.ts";

describe("a payload that cannot be read", () => {
  it("fails the delivery's attempts with backoff until it is dead, and the views answer without it", async () => {
    const leadId = uniqueId();
    const actor = leadActor(leadId);
    await actor.ingest("demo", [leadEvent(leadId)]);
    // Slack is held while the object goes, so its delivery of the large event comes after.
    await actor.pause("slack");
    const [large] = await offloadPayloads(env, "demo", [leadEvent(leadId, { type: "lead.updated", data: { id: leadId, notes: "n".repeat(40_000) } })]);
    await actor.ingest("demo", [large!]);
    await env.PAYLOADS.delete(large!.payload!.key);
    await actor.resume("slack");

    const dead = await eventually(async () => {
      const slack = (await deliveries(leadId, large!.id)).slack;
      return slack?.status === "dead" ? slack : undefined;
    }, "the Slack delivery to end dead", 20_000);
    // RETRY_MAX_ATTEMPTS is 4 in the tests: four attempts, each after a backoff, then dead.
    expect(dead).toMatchObject({ attempts: 4 });
    expect(dead.lastError).toMatch(/^payload: missing from PAYLOADS: payloads\/demo\/lead\//);
    expect(await receiver.calls(`${large!.id}:slack`)).toEqual([]);

    const view = await actor.getEntity();
    expect(view!.state.notes).toBeNull();
    const page = await actor.listEvents(0, 10);
    const event = page!.events.find((e) => e.id === large!.id)!;
    expect(event.data).toEqual({});
    expect(event.dataError).toMatch(/^missing from PAYLOADS/);
    // The entity goes on: a later event is delivered.
    const next = leadEvent(leadId, { type: "lead.updated", data: { id: leadId, status: "open" } });
    await actor.ingest("demo", [next]);
    await eventually(async () => ((await deliveries(leadId, next.id)).slack?.status === "succeeded" ? true : undefined), "the next event's Slack delivery");
    // Every other handler's delivery of the large event ends dead too. Waiting for them keeps their
    // alarms (and their dead-letter lines) inside this test: a line logged after the file ends
    // reaches the pool from another I/O context, and the run can then hang at teardown.
    await eventually(async () => {
      const all = Object.values(await deliveries(leadId, large!.id));
      return all.length > 0 && all.every((d) => d.status === "dead") ? true : undefined;
    }, "every delivery of the unreadable event to end dead", 20_000);
  }, 45_000);
});
