// The benchmark at toy scale: every phase runs and measures something, nothing is timed.
import { afterAll, describe, expect, it } from "vitest";
import { FULL, formatReport, runBench } from "../../scripts/bench.ts";
import { removeBuild } from "../../scripts/lib/local-server.ts";

describe("npm run bench (smoke)", () => {
  afterAll(removeBuild);

  it("measures every phase against a real server and receiver and prints one table", async () => {
    const report = await runBench(
      { ...FULL, phaseMs: 400, warmupMs: 100, concurrencies: [1, 4], entities: 40, batchSize: 10, batchConcurrency: 2, fanoutRates: [40], fanoutMs: 1_000, fanoutEntities: 20 },
      () => {},
    );
    const phases = [...report.bare, ...report.emptyActor, ...report.hotEntity, report.newEntities, ...report.distinctEntities, report.batch, report.hotBatch];
    // bare ×2, empty actor ×3 (hot, new each, existing), hot ×2, new entities, existing entities ×2, batch, hot batch.
    expect(phases).toHaveLength(12);
    for (const phase of phases) {
      expect(phase.requests).toBeGreaterThan(0);
      // Every request got the answer it should: 200 bare, 202 ingest, 207 batch.
      expect(phase.unexpected).toEqual({});
      expect(phase.p50).toBeLessThanOrEqual(phase.p99);
      expect(phase.p99).toBeLessThanOrEqual(phase.max);
    }
    expect(report.batch.eventsPerSecond).toBeCloseTo(report.batch.perSecond * 10);
    expect(report.hotBatch.eventsPerSecond).toBeCloseTo(report.hotBatch.perSecond * 10);
    // The new-entity phase sends exactly one batch per 10 entities, creating each once.
    expect(report.newEntities.requests).toBe(4);
    // Each fan-out event reached the receiver once per remote handler.
    const [fanout] = report.fanout;
    expect(report.fanout).toHaveLength(1);
    expect(fanout!.events).toBe(40);
    expect(fanout!.missing).toBe(0);
    expect(fanout!.refused).toEqual({});
    expect(Object.keys(fanout!.inline)).toEqual(["slack"]);
    for (const l of [...Object.values(fanout!.inline), ...Object.values(fanout!.queued)]) expect(Number.isFinite(l.p99)).toBe(true);
    expect(report.rss.entitiesTouched).toBe(40);
    expect(report.rss.workerdPeakMiB).toBeGreaterThan(10);
    // Memory can only be read, not predicted: the figures exist and are numbers.
    expect(Number.isFinite(report.rss.perEntityKiB)).toBe(true);
    expect(Number.isFinite(report.rss.perEmptyActorKiB)).toBe(true);

    const table = formatReport(report);
    expect(table).toContain("ingest, 1 hot entity");
    expect(table).toContain("fan-out → slack (inline)");
    expect(table).toContain("empty actor RPC, new actor each");
    expect(table).toContain("empty actor RPC, 40 existing");
    expect(table.split("\n").filter((line) => line.startsWith("bare Worker"))).toHaveLength(2);
  });
});
