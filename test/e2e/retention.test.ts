// Tenant settings over real HTTP: retention compacts settled events past the count window (state
// stays, the ids still dedupe, the export says how many went), bad settings are 400 and change
// nothing, and an erased entity stays erased unless the tenant allows re-creation.
import { describe, expect, it } from "vitest";
import { call } from "./control.ts";
import { serverWithReceiver, waitFor } from "./harness.ts";

const KEY = "dev_demo_key";
const local = serverWithReceiver({ FOLLOW_UP_DELAY_MS: "600000" });

interface Settings {
  retention: { days: number | null; eventsPerEntity: number | null };
  erasure: { allowRecreate: boolean };
  mirror: { events: boolean };
}
interface EntityView {
  state: Record<string, unknown>;
  events: { count: number; lastSeq: number; compacted: number };
  deliveries: { pending: number };
}

const api = <T>(method: string, path: string, body?: unknown) => call<T>(local.server.url, KEY, method, path, body);
const update = (leadId: string, n: number) => ({ id: `${leadId}-${n}`, type: "lead.updated", occurredAt: 1_700_000_000_000 + n, data: { id: leadId, step: n } });

describe("settings", () => {
  it("answers the defaults, takes a change field by field, and refuses bad values without changing anything", async () => {
    expect((await api<Settings>("GET", "/v1/settings")).body).toEqual({ retention: { days: null, eventsPerEntity: null }, erasure: { allowRecreate: false }, mirror: { events: false } });
    for (const bad of [{ retention: { days: 0 } }, { retention: { eventsPerEntity: 1.5 } }, { retention: { weeks: 2 } }, { erasure: { allowRecreate: "yes" } }]) {
      const refused = await api<{ error: { code: string } }>("PATCH", "/v1/settings", bad);
      expect([refused.status, refused.body.error.code]).toEqual([400, "invalid_request"]);
    }
    expect((await api<Settings>("GET", "/v1/settings")).body.retention).toEqual({ days: null, eventsPerEntity: null });
    const changed = await api<Settings>("PATCH", "/v1/settings", { retention: { days: 30 } });
    expect(changed.body).toEqual({ retention: { days: 30, eventsPerEntity: null }, erasure: { allowRecreate: false }, mirror: { events: false } });
    const cleared = await api<Settings>("PATCH", "/v1/settings", { retention: { days: null } });
    expect(cleared.body.retention.days).toBeNull();
  });
});

describe("retention", () => {
  it("compacts settled events past eventsPerEntity; state stays and their ids stay duplicates", async () => {
    await api("PATCH", "/v1/settings", { retention: { eventsPerEntity: 5 } });
    const events = Array.from({ length: 100 }, (_, i) => update("RT-1", i + 1));
    await api("POST", "/v1/events/batch", { events });
    let view: EntityView | undefined;
    await waitFor(async () => {
      view = (await api<EntityView>("GET", "/v1/entities/lead/RT-1")).body;
      return view.events.compacted > 0 && view.deliveries.pending === 0;
    }, () => `compaction (${JSON.stringify(view?.events)})`);
    // Compaction goes in batches of 64 or more, so between 5 and 68 stay.
    expect(view!.events.count + view!.events.compacted).toBe(100);
    expect(view!.events.count).toBeGreaterThanOrEqual(5);
    expect(view!.events.count).toBeLessThan(69);
    expect(view!.state.step).toBe(100);

    const repeat = await api<{ status: string }>("POST", "/v1/events", events[0]);
    expect([repeat.status, repeat.body.status]).toEqual([200, "duplicate"]);
    const exported = await api<{ compacted: number; events: Array<{ seq: number }> }>("GET", "/v1/entities/lead/RT-1/export");
    expect(exported.body.compacted).toBe(view!.events.compacted);
    expect(exported.body.events[0]!.seq).toBe(view!.events.compacted + 1);
    await api("PATCH", "/v1/settings", { retention: { eventsPerEntity: null } });
  });
});

describe("re-creation after erasure", () => {
  it("answers 410 entity_erased unless the tenant allows re-creation; then a new log starts at seq 1", async () => {
    expect((await api("POST", "/v1/events", update("RC-1", 1))).status).toBe(202);
    expect((await api("DELETE", "/v1/entities/lead/RC-1")).status).toBe(204);
    const refused = await api<{ error: { code: string } }>("POST", "/v1/events", update("RC-1", 2));
    expect([refused.status, refused.body.error.code]).toEqual([410, "entity_erased"]);

    await api("PATCH", "/v1/settings", { erasure: { allowRecreate: true } });
    // The router and the entity read the settings through a cache of a few seconds.
    await waitFor(async () => (await api("POST", "/v1/events", update("RC-1", 3))).status === 202, "re-creation to be allowed");
    const view = await api<EntityView>("GET", "/v1/entities/lead/RC-1");
    expect([view.status, view.body.events.lastSeq, view.body.state.step]).toEqual([200, 1, 3]);
    // The old event's id belongs to the erased log: under the new one it is a new event.
    expect((await api<{ status: string; seq: number }>("POST", "/v1/events", update("RC-1", 1))).body).toMatchObject({ status: "accepted", seq: 2 });
    await api("PATCH", "/v1/settings", { erasure: { allowRecreate: false }, mirror: { events: false } });
  });
});
