import { describe, expect, it } from "vitest";
import { holdFor, recordRun, REPORT_SESSION_HOLD_MS } from "../../src/delivery/report-session.ts";

describe("report session hold", () => {
  it("holds a claim kind it has not seen, stops holding one whose runs are slow, and holds it again once they are quick", () => {
    const kind = `space-${crypto.randomUUID()}|crm`;
    expect(holdFor(kind)).toBe(REPORT_SESSION_HOLD_MS);
    recordRun(kind, 20);
    expect(holdFor(kind)).toBe(REPORT_SESSION_HOLD_MS);
    recordRun(kind, 900);
    // 20 + 0.3 × 880 = 284 ms on average: holding would only add duration to the request paid anyway.
    expect(holdFor(kind)).toBe(0);
    for (let i = 0; i < 6; i++) recordRun(kind, 10);
    expect(holdFor(kind)).toBe(REPORT_SESSION_HOLD_MS);
  });

  it("remembers a bounded number of claim kinds, forgetting the oldest first", () => {
    const old = `space-${crypto.randomUUID()}|crm`;
    recordRun(old, 5_000);
    expect(holdFor(old)).toBe(0);
    for (let i = 0; i < 1_000; i++) recordRun(`space-${i}|ai-analysis`, 5_000);
    // Forgotten: held again, as a kind never seen.
    expect(holdFor(old)).toBe(REPORT_SESSION_HOLD_MS);
    expect(holdFor("space-999|ai-analysis")).toBe(0);
  });
});
