// The chaos run at toy scale, plus a check that its stranded-work detector does detect.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { failed, runChaos } from "../../scripts/chaos.ts";
import { openWork } from "../../scripts/lib/inspect-state.ts";
import { edgeflowOptions, removeBuild, startLocalServer } from "../../scripts/lib/local-server.ts";

describe("npm run chaos (smoke)", () => {
  afterAll(removeBuild);

  it("loses nothing through two SIGKILLs with a failing receiver", async () => {
    const report = await runChaos({ events: 150, entities: 15, failRate: 0.2, kills: 2, seed: 3, concurrency: 8, drainTimeoutMs: 120_000 }, () => {});
    expect(report.kills).toHaveLength(2);
    expect(report.acknowledged).toBe(150);
    expect(report.sends).toBeGreaterThanOrEqual(450);
    expect(report.expectedEffects).toBeGreaterThan(150);
    expect(report.lost).toBe(0);
    expect(report.unexpectedEffects).toBe(0);
    expect(report.stranded).toBe(0);
    expect(report.stateMismatches).toBe(0);
    expect(report.logMismatches).toBe(0);
    expect(report.duplicatesUnexplained).toBe(0);
    expect(report.drained).toBe(true);
    // The lifecycle share: a paused lead, an erased one, scheduled events; none of them broke a rule.
    expect([report.held, report.erased]).toEqual([1, 1]);
    expect(report.scheduled).toBeGreaterThan(0);
    expect([report.heldViolations, report.resurrected, report.effectsAfterErasure, report.scheduledEarly]).toEqual([0, 0, 0, 0]);
    expect(failed(report)).toBe(false);
  });

  it("reports open work whose alarm is gone as stranded", async () => {
    // A delivery that keeps failing (nothing listens on port 9) stays open with an alarm.
    const server = await startLocalServer(
      edgeflowOptions({ rateLimit: 1_000_000, vars: { SLACK_WEBHOOK_URL: "http://127.0.0.1:9/slack", RETRY_BASE_MS: "600000" } }),
    );
    const answer = await fetch(`${server.url}/v1/events`, {
      method: "POST",
      headers: { authorization: "Bearer dev_demo_key", "content-type": "application/json" },
      body: JSON.stringify({ type: "lead.updated", data: { id: "S-1", status: "new" } }),
    });
    expect(answer.status).toBe(202);
    const deadline = Date.now() + 20_000;
    // Wait for the first attempt to fail and be rescheduled 10 minutes out.
    while (Date.now() < deadline) {
      const page = (await (await fetch(`${server.url}/v1/entities/lead/S-1/events`, { headers: { authorization: "Bearer dev_demo_key" } })).json()) as {
        events: Array<{ deliveries: Array<{ handler: string; status: string; attempts: number }> }>;
      };
      const slack = page.events[0]?.deliveries.find((d) => d.handler === "slack");
      if (slack?.status === "pending" && slack.attempts === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await server.stop();

    const before = openWork(server.persistDir);
    expect(before).toHaveLength(1);
    expect(before[0]!.alarmAt).not.toBeNull();

    // Remove the alarm from workerd's index, as a lost setAlarm would leave it.
    const index = new DatabaseSync(join(server.persistDir, "do", "edgeflow-EntityActor", "metadata.sqlite"));
    index.exec("DELETE FROM _cf_ALARM");
    index.close();
    expect(openWork(server.persistDir)).toEqual([{ actor: before[0]!.actor, open: before[0]!.open, alarmAt: null }]);
    rmSync(server.persistDir, { recursive: true, force: true });
  });
});
