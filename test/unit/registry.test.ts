import { describe, expect, it } from "vitest";
import { eventDefinitions } from "../../src/events/registry";
import { handler, HANDLERS } from "../../src/handlers/registry";
import { allSettings, SETTINGS } from "../../src/handlers/settings";

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
      // Settings come from the one declaration, and each is either required or optional once.
      for (const s of h.settings ?? []) expect(allSettings()).toContainEqual(s);
      expect(h.settings).toBe(SETTINGS[h.name as keyof typeof SETTINGS]);
      // A handler that calls out over HTTP is configured by declared settings; the others by bindings, or nothing.
      if (h.settings) expect(h.settings.some((s) => s.required)).toBe(true);
      expect(handler(h.name)).toBe(h);
    }
  });

  it("has every handler used by some event type, and every event type's handlers registered", () => {
    const used = new Set(eventDefinitions().flatMap((d) => d.handlers));
    expect([...used].sort()).toEqual(HANDLERS.map((h) => h.name).sort());
    for (const definition of eventDefinitions()) {
      expect(definition.handlers.length).toBeGreaterThan(0);
      // What differs per type comes from the definition: a type Slack posts for says what to post.
      expect(typeof definition.slack === "function").toBe(definition.handlers.includes("slack"));
      expect(definition.mirror !== undefined).toBe(definition.handlers.includes("database"));
      for (const name of definition.handlers) expect(handler(name), `${definition.type} names ${name}`).toBeDefined();
    }
  });
});
