// Each actor answers over RPC exactly its declared interface: a public method a test needed, or one
// left behind by a refactor, would be callable by any Worker of the deployment. The lists in
// src/rpc/actors.ts are checked against the interfaces by `tsc`; this holds the classes to them.
import { describe, expect, it } from "vitest";
import { EntityActor } from "../../actors/entity-actor.ts";
import { TenantActor } from "../../actors/tenant-actor.ts";
import { ENTITY_RPC_METHODS, TENANT_RPC_METHODS } from "../../src/rpc/actors.ts";

/** What the platform calls on a Durable Object: not RPC methods of ours. */
const PLATFORM_HOOKS = new Set(["constructor", "fetch", "alarm", "webSocketMessage", "webSocketClose", "webSocketError"]);

/** The methods a class adds over DurableObject. TypeScript's `private` is no barrier to RPC, so helpers are `#private`. */
function methodsOf(actor: { prototype: object }): string[] {
  return Object.getOwnPropertyNames(actor.prototype).filter((name) => !PLATFORM_HOOKS.has(name) && typeof Object.getOwnPropertyDescriptor(actor.prototype, name)?.value === "function");
}

describe("the actors' RPC surfaces", () => {
  it("the tenant actor has no method beyond TenantActorRpc", () => {
    expect(methodsOf(TenantActor).sort()).toEqual(Object.keys(TENANT_RPC_METHODS).sort());
  });

  it("the entity actor has no method beyond EntityActorRpc", () => {
    expect(methodsOf(EntityActor).sort()).toEqual(Object.keys(ENTITY_RPC_METHODS).sort());
  });
});
