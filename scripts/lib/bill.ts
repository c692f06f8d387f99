// The monthly Workers Paid bill for N events of a mix of types, from measured units per event
// (npm run cost): the plan's base price, each product's included allowance, and the overage, line
// by line. Allowances and prices are the list's as of PRICES_AS_OF (scripts/lib/prices.ts).
import { PRICE_PER_MILLION, type PricedUnit } from "./prices.ts";

/** The Workers Paid plan's monthly base price, in dollars. */
export const BASE_PRICE = 5;

/** Included each month on Workers Paid, per unit (the same units PRICE_PER_MILLION prices). */
export const INCLUDED: Record<PricedUnit, number> = {
  workerInvocations: 10_000_000,
  workerCpuMs: 30_000_000,
  doRequests: 1_000_000,
  doRowsRead: 25_000_000_000,
  doRowsWritten: 50_000_000,
  doDurationGbS: 400_000,
  queueOperations: 1_000_000,
  d1RowsRead: 25_000_000_000,
  d1RowsWritten: 50_000_000,
  analyticsPoints: 10_000_000,
  r2ClassA: 1_000_000,
  r2ClassB: 10_000_000,
};

const LABEL: Record<PricedUnit, string> = {
  workerInvocations: "Workers requests",
  workerCpuMs: "Workers CPU (ms)",
  doRequests: "Durable Objects requests",
  doRowsRead: "Durable Objects rows read",
  doRowsWritten: "Durable Objects rows written",
  doDurationGbS: "Durable Objects duration, GB-s (report sessions and waits only)",
  queueOperations: "Queues operations",
  d1RowsRead: "D1 rows read",
  d1RowsWritten: "D1 rows written",
  analyticsPoints: "Analytics Engine data points",
  r2ClassA: "R2 class A operations (large payloads)",
  r2ClassB: "R2 class B operations (large payloads)",
};

export interface BillLine {
  unit: PricedUnit;
  label: string;
  used: number;
  included: number;
  overage: number;
  dollars: number;
}

export interface Bill {
  events: number;
  mix: Record<string, number>;
  lines: BillLine[];
  base: number;
  total: number;
}

/**
 * Prices `events` a month split by `mix` (shares by name, any scale) over per-event units by the
 * same names. Each unit's monthly use is the mix's weighted sum, less its allowance, priced per million.
 */
export function monthlyBill(events: number, mix: Record<string, number>, perEvent: Record<string, Record<PricedUnit, number>>): Bill {
  const shares = Object.values(mix).reduce((a, b) => a + b, 0);
  if (!(shares > 0)) throw new Error("the mix has no share above 0");
  for (const name of Object.keys(mix)) if (!perEvent[name]) throw new Error(`no measured units for ${name}`);
  const lines = (Object.keys(PRICE_PER_MILLION) as PricedUnit[]).map((unit) => {
    const used = Object.entries(mix).reduce((sum, [name, share]) => sum + events * (share / shares) * perEvent[name]![unit], 0);
    const overage = Math.max(0, used - INCLUDED[unit]);
    return { unit, label: LABEL[unit], used, included: INCLUDED[unit], overage, dollars: (overage / 1_000_000) * PRICE_PER_MILLION[unit] };
  });
  return { events, mix, lines, base: BASE_PRICE, total: BASE_PRICE + lines.reduce((a, l) => a + l.dollars, 0) };
}

const count = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0));

/** The bill as a text table. */
export function formatBill(bill: Bill, asOf: string): string {
  const rows = [
    ["line", "used", "included", "overage", "$/M", "$"],
    ["Workers Paid base", "", "", "", "", bill.base.toFixed(2)],
    ...bill.lines.map((l) => [l.label, count(l.used), count(l.included), count(l.overage), PRICE_PER_MILLION[l.unit].toFixed(3), l.dollars.toFixed(2)]),
    ["total", "", "", "", "", bill.total.toFixed(2)],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const mix = Object.entries(bill.mix).map(([k, v]) => `${k}=${v}`).join(",");
  return [
    `Monthly bill for ${count(bill.events)} events (mix ${mix}), Workers Paid list prices of ${asOf}:`,
    ...rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")),
    "Not counted: Durable Object storage, and their duration outside report sessions and report waits (wall time and data size in production), R2 storage (the size of large payloads kept).",
    "Workers CPU is edgeflow's isolate as sampled locally, the actors' share included (production bills the actors by duration instead).",
  ].join("\n");
}
