import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { entityActor, tenantActor } from "../../src/rpc/actors.ts";
import { actorName } from "../../src/rpc/names.ts";
import { tenantSpace } from "../../src/rpc/names.ts";
import { leadEvent, receiver, uniqueId } from "./helpers.ts";

describe("an entity its tenant's erasure missed", () => {
  it("erases itself at its next turn instead of delivering with the configuration of a tenant created since under the same name", async () => {
    const name = `orphan-${crypto.randomUUID().slice(0, 8)}`;
    const record = await tenantActor(env, name).createTenant();
    expect(record).not.toBeNull();
    // An entity in another space of that name: an earlier incarnation's, which no erasure reached.
    const staleSpace = `${name}~0000000000000000`;
    expect(tenantSpace(name, record)).not.toBe(staleSpace);
    const leadId = uniqueId();
    const stale = { type: "lead", id: leadId };
    const event = leadEvent(leadId, { type: "lead.updated", data: { id: leadId } });
    expect((await entityActor(env, staleSpace, stale).ingest(name, [event]))[0]).toMatchObject({ status: "accepted" });
    expect(await runDurableObjectAlarm(env.ENTITY.getByName(actorName(staleSpace, stale)))).toBe(true);
    expect(await entityActor(env, staleSpace, stale).getEntity()).toBeNull();
    expect(await receiver.calls(`/${leadId}/`)).toEqual([]);
    // Nothing of it reached the tenant either.
    expect(await tenantActor(env, name).describe()).toMatchObject({ entities: 0 });
  });
});
