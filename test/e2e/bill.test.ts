// The monthly bill's arithmetic (scripts/lib/bill.ts): allowances first, then the list price per
// million, line by line, over a mix of measured per-event units.
import { describe, expect, it } from "vitest";
import { BASE_PRICE, INCLUDED, monthlyBill } from "../../scripts/lib/bill.ts";
import { PRICE_PER_MILLION, type PricedUnit } from "../../scripts/lib/prices.ts";

const units = (over: Partial<Record<PricedUnit, number>>): Record<PricedUnit, number> =>
  ({ ...Object.fromEntries(Object.keys(PRICE_PER_MILLION).map((u) => [u, 0])), ...over }) as Record<PricedUnit, number>;

describe("the monthly bill", () => {
  it("is the base price alone while every unit stays within its allowance", () => {
    const bill = monthlyBill(1_000, { created: 1 }, { created: units({ doRequests: 6, doRowsWritten: 14, queueOperations: 3 }) });
    expect(bill.total).toBe(BASE_PRICE);
    expect(bill.lines.every((l) => l.overage === 0 && l.dollars === 0)).toBe(true);
  });

  it("charges only what exceeds each allowance, weighted by the mix", () => {
    const perEvent = { created: units({ doRequests: 6, doRowsWritten: 14 }), updated: units({ doRequests: 4, doRowsWritten: 7 }) };
    const bill = monthlyBill(10_000_000, { created: 25, updated: 75 }, perEvent);
    const requests = bill.lines.find((l) => l.unit === "doRequests")!;
    // 2.5 M × 6 + 7.5 M × 4 = 45 M requests, 1 M included.
    expect(requests.used).toBeCloseTo(45_000_000, 0);
    expect(requests.overage).toBeCloseTo(45_000_000 - INCLUDED.doRequests, 0);
    expect(requests.dollars).toBeCloseTo(44 * PRICE_PER_MILLION.doRequests, 6);
    const rows = bill.lines.find((l) => l.unit === "doRowsWritten")!;
    // 2.5 M × 14 + 7.5 M × 7 = 87.5 M rows, 50 M included.
    expect(rows.dollars).toBeCloseTo(37.5 * PRICE_PER_MILLION.doRowsWritten, 6);
    expect(bill.total).toBeCloseTo(BASE_PRICE + requests.dollars + rows.dollars, 6);
  });

  it("refuses a mix that names an unmeasured type or has no share", () => {
    expect(() => monthlyBill(1, { refund: 1 }, { created: units({}) })).toThrow(/no measured units for refund/);
    expect(() => monthlyBill(1, { created: 0 }, { created: units({}) })).toThrow(/no share/);
  });
});
