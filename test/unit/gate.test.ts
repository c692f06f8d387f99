// The gate's holds (src/delivery/gate.ts): only a down destination's hold (its circuit open
// through failed probes) may cost a due retry an attempt (actors/entity/settle.ts). A call that
// waited its turn behind the one call allowed to a destination that failed lately is paced, and
// costs nothing; so is a call held by a circuit that has only just opened.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AttemptOutcome } from "../../src/delivery/policy/outcome.ts";
import { admit, CIRCUIT_FAILURES, CIRCUIT_WINDOW, DOWN_AFTER_PROBES, type GateTarget } from "../../src/delivery/gate.ts";
import { uniqueId } from "./helpers.ts";

const failure: AttemptOutcome = { kind: "retry", error: "HTTP 500", statusCode: 500 };
const target = (): GateTarget => ({ key: `destination:gate-${uniqueId()}`, controls: { rateLimit: null, maxConcurrency: null } });

/** One call through the gate, ended with `outcome`. */
async function call(space: string, gated: GateTarget, outcome: AttemptOutcome): Promise<void> {
  const admission = await admit(env, space, gated, Date.now() + 1_000);
  if (!admission.ok) throw new Error(`held: ${admission.reason}`);
  expect(await admission.start()).toBe(true);
  admission.done(outcome);
}

describe("the gate's holds", () => {
  it("paces calls behind a destination that failed lately without calling it a circuit hold", async () => {
    const gated = target();
    await call("gate", gated, failure);
    // One call at a time while the last outcome was a failure: this one is out…
    const first = await admit(env, "gate", gated, Date.now() + 1_000);
    expect(first.ok).toBe(true);
    // …so the next waits, and past its deadline is held: paced, not refused by the circuit.
    const second = await admit(env, "gate", gated, Date.now() + 100);
    expect(second).toMatchObject({ ok: false, down: false });
    if (first.ok) first.done({ kind: "succeeded", statusCode: 200 });
    // The destination answered: calls go at once again.
    expect((await admit(env, "gate", gated, Date.now() + 100)).ok).toBe(true);
  });

  it("opens on consecutive failures, and calls the destination down only once its probes have failed too", async () => {
    const gated = target();
    for (let i = 0; i < CIRCUIT_FAILURES; i++) await call("gate", gated, failure);
    const held = await admit(env, "gate", gated, Date.now() + 100);
    // Open, but not yet down: this hold costs a due retry no attempt.
    expect(held).toMatchObject({ ok: false, down: false, reason: "circuit open" });
    if (!held.ok) expect(held.until).toBeGreaterThan(Date.now());
    for (let probe = 1; probe <= DOWN_AFTER_PROBES; probe++) {
      // After the cool-down one call goes: the probe. It fails.
      const deadline = Date.now() + 30_000;
      let admission = await admit(env, "gate", gated, Date.now() + 100);
      while (!admission.ok && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        admission = await admit(env, "gate", gated, Date.now() + 100);
      }
      expect(admission.ok).toBe(true);
      if (admission.ok) {
        expect(await admission.start()).toBe(true);
        admission.done(failure);
      }
      const after = await admit(env, "gate", gated, Date.now() + 100);
      expect(after).toMatchObject({ ok: false, reason: "circuit open", down: probe >= DOWN_AFTER_PROBES });
    }
  }, 60_000);

  it("stays closed for a destination that fails one call in five, even through five failures in a row", async () => {
    const gated = target();
    const ok: AttemptOutcome = { kind: "succeeded", statusCode: 200 };
    // Four successes to each failure, over a full window…
    for (let i = 0; i < CIRCUIT_WINDOW - CIRCUIT_FAILURES; i++) await call("gate", gated, i % 4 === 3 ? failure : ok);
    // …then the run of five that chance brings now and then: flaky, not down.
    for (let i = 0; i < CIRCUIT_FAILURES; i++) await call("gate", gated, failure);
    // Closed: one call at a time while the last outcome is a failure, and that call goes at once.
    const next = await admit(env, "gate", gated, Date.now() + 100);
    expect(next.ok).toBe(true);
    if (next.ok) next.done(failure);
    // A destination that goes on failing is down: once half the window failed, the circuit opens.
    let refused = null;
    for (let i = 0; i < CIRCUIT_WINDOW && refused === null; i++) {
      const admission = await admit(env, "gate", gated, Date.now() + 100);
      if (admission.ok) admission.done(failure);
      else refused = admission;
    }
    expect(refused).toMatchObject({ ok: false, down: false, reason: "circuit open" });
  });

  it("lets any accepted rate call at once, and holds the next call until its slot instead of polling for it", async () => {
    // 0.01 a second: one call per 100 s (111 s paced), longer than the limiter's 30 s horizon. On
    // 0.5.0 no slot ever fitted that horizon, so nothing was delivered and every turn polled.
    const gated: GateTarget = { key: `endpoint:ep_slow${uniqueId()}`, controls: { rateLimit: { perSecond: 0.01 }, maxConcurrency: null } };
    const started = Date.now();
    const first = await admit(env, "gate-slow", gated, Date.now() + 2_000);
    expect(first.ok).toBe(true);
    if (first.ok) {
      expect(await first.start()).toBe(true);
      first.done({ kind: "succeeded", statusCode: 200 });
    }
    // Held with a time near its slot, answered without waiting out the deadline.
    const asked = Date.now();
    const second = await admit(env, "gate-slow", gated, Date.now() + 5_000);
    expect(Date.now() - asked).toBeLessThan(4_000);
    expect(second).toMatchObject({ ok: false, reason: "rate limit" });
    if (!second.ok) {
      expect(second.until).toBeGreaterThan(started + 100_000);
      expect(second.until).toBeLessThan(started + 200_000);
    }
  });
});
