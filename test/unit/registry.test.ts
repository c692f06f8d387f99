import { describe, expect, it } from "vitest";
import { eventDefinitions } from "../../src/events/registry.ts";
import { takes, type Handler } from "../../src/handlers/handler.ts";
import { DESTINATION_KINDS, deploymentVariables, destinationKind, kindForms } from "../../src/handlers/kinds.ts";
import { handler, handlersFor, handlerTable, HANDLERS } from "../../src/handlers/registry.ts";

describe("the handler registry", () => {
  it("holds complete handlers: unique names, a mode, run, and batching declared consistently", () => {
    const names = HANDLERS.map((h) => h.name);
    expect(new Set(names).size).toBe(names.length);
    for (const h of HANDLERS) {
      expect(h.name).toMatch(/^[a-z][a-z-]*$/);
      expect(["inline", "queued"]).toContain(h.mode);
      expect(typeof h.run).toBe("function");
      // A handler batches exactly when it says how many deliveries one call may carry.
      expect(typeof h.runBatch === "function").toBe((h.maxBatch ?? 1) > 1);
      if (h.maxPerInvocation !== undefined) expect(h.maxPerInvocation).toBeGreaterThanOrEqual(h.maxBatch ?? 1);
      // A handler with a destination knows when the deployment cannot run it.
      if (h.destination) expect(typeof h.unconfigured).toBe("function");
      expect(handler(h.name)).toBe(h);
    }
  });

  it("gives every handler some event type, and every client event type some handler", () => {
    const types = new Set(eventDefinitions().map((d) => d.type));
    for (const h of HANDLERS as readonly Handler[]) {
      // A list names only registered types: a typo would silently take nothing.
      if (Array.isArray(h.takes)) for (const type of h.takes) expect(types, `${h.name} takes ${type}`).toContain(type);
      expect(eventDefinitions().some((d) => takes(h, d)), `${h.name} takes no type`).toBe(true);
    }
    for (const definition of eventDefinitions()) expect(handlersFor(definition.type).length, definition.type).toBeGreaterThan(0);
  });

  it("runs each type's handlers in the registry's order, as the contract lists them", () => {
    const order = HANDLERS.map((h) => h.name as string);
    for (const row of handlerTable()) {
      const positions = row.handlers.map((name) => order.indexOf(name));
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    }
    expect(handlersFor("lead.created")).toEqual(["slack", "discord", "teams", "welcome-email", "crm", "ai-analysis", "database", "analytics", "follow-up"].filter((n) => order.includes(n)));
    expect(handlersFor("lead.follow_up_due")).toEqual(["slack", "discord", "teams"].filter((n) => order.includes(n)));
    expect(handlersFor("nope")).toEqual([]);
  });
});

describe("the destination kinds table", () => {
  it("declares each kind once, with a required url and its own deployment variables", () => {
    const names = DESTINATION_KINDS.map((k) => k.kind);
    expect(new Set(names).size).toBe(names.length);
    for (const kind of DESTINATION_KINDS) {
      expect(kind.kind).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(kind.fields.find((f) => f.name === "url")).toMatchObject({ type: "url", required: true });
      expect(destinationKind(kind.kind)).toBe(kind);
      for (const field of kind.fields) expect(field.variable).toMatch(/^[A-Z][A-Z0-9_]*$/);
    }
    // One variable belongs to one field of one kind (email's handlers share one kind).
    const variables = DESTINATION_KINDS.flatMap((k) => k.fields.map((f) => f.variable));
    expect(new Set(variables).size).toBe(variables.length);
    expect(deploymentVariables().map((v) => v.variable)).toEqual(variables);
    expect(destinationKind("__proto__")).toBeUndefined();
  });

  it("validates and masks by the declared fields", () => {
    for (const kind of DESTINATION_KINDS) {
      const full = Object.fromEntries(kind.fields.map((f) => [f.name, f.type === "url" ? "https://example.com/hook" : "value"]));
      expect(kind.schema.is(full), kind.kind).toBe(true);
      expect(kind.schema.is({ ...full, extra: "x" }), `${kind.kind} takes unknown fields`).toBe(false);
      expect(kind.schema.is({ ...full, url: "ftp://example.com" })).toBe(false);
      for (const field of kind.fields.filter((f) => f.required)) {
        const { [field.name]: _left, ...without } = full;
        expect(kind.schema.is(without), `${kind.kind} without ${field.name}`).toBe(false);
      }
    }
    expect(kindForms().map((k) => k.kind)).toEqual(DESTINATION_KINDS.map((k) => k.kind));
  });
});
