// Structured logs, read the way an operator would: from the running server's own output.
import { describe, expect, it } from "vitest";
import { serverWithReceiver, waitFor } from "./harness.ts";

const AUTH = { authorization: "Bearer dev_demo_key", "content-type": "application/json" };

const local = serverWithReceiver({ FOLLOW_UP_DELAY_MS: "600000" });


type Line = Record<string, unknown>;

/** Every JSON line the server printed (wrangler frames warnings in colour codes and a marker). */
function lines(): Line[] {
  return local.server
    .output()
    .split("\n")
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, ""))
    .map((l) => l.slice(l.indexOf("{")))
    .filter((l) => l.startsWith("{"))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Line];
      } catch {
        return [];
      }
    });
}

describe("structured logs", () => {
  it("print one line per request, per delivery outcome and per dead letter, with no payload and no secret", async () => {
    const run = Date.now().toString(36);
    const lead = `LOG-${run}`;
    const email = `private-${run}@example.com`;
    // The receiver's answer quotes something it should not: it must stay out of the logs.
    local.receiver.script(`evt-${run}-1:slack`, [{ status: 410, body: `{"error":"gone ${email}"}` }]);
    const single = await fetch(`${local.server.url}/v1/events`, {
      method: "POST",
      headers: AUTH,
      body: JSON.stringify({ id: `evt-${run}-1`, type: "lead.created", data: { id: lead, email, name: `Secret Name ${run}` } }),
    });
    expect(single.status).toBe(202);
    const batch = await fetch(`${local.server.url}/v1/events/batch`, {
      method: "POST",
      headers: AUTH,
      body: JSON.stringify({
        events: [
          { id: `evt-${run}-1`, type: "lead.created", data: { id: lead, email, name: `Secret Name ${run}` } },
          { id: `evt-${run}-2`, type: "lead.updated", data: { id: lead, status: "hot" } },
          { id: `evt-${run}-3`, type: "lead.updated", data: { id: lead, email: "not-an-email" } },
        ],
      }),
    });
    expect(batch.status).toBe(207);

    const mine = () => lines().filter((l) => typeof l.eventId === "string" && (l.eventId as string).startsWith(`evt-${run}-`));
    await waitFor(() => mine().some((l) => l.msg === "dead letter") && mine().filter((l) => l.eventId === `evt-${run}-2` && l.handler === "crm").length > 0, "the delivery lines", 30_000, 100);

    const received = lines().filter((l) => l.msg === "events received" && l.tenant === "demo");
    expect(received).toContainEqual(expect.objectContaining({ level: "info", accepted: 1, duplicate: 0, conflict: 0, failed: 0 }));
    expect(received).toContainEqual(expect.objectContaining({ level: "info", accepted: 1, duplicate: 1, conflict: 0, failed: 1 }));

    const dead = mine().find((l) => l.msg === "dead letter")!;
    expect(dead).toEqual({
      level: "warn",
      msg: "dead letter",
      tenant: "demo",
      entity: `lead/${lead}`,
      eventId: `evt-${run}-1`,
      handler: "slack",
      attempt: 1,
      status: "dead",
      statusCode: 410,
      durationMs: expect.any(Number),
      error: "HTTP 410",
    });
    const delivered = mine().filter((l) => l.msg === "delivery" && l.eventId === `evt-${run}-1`);
    for (const handler of ["welcome-email", "crm", "ai-analysis", "database", "analytics", "follow-up"]) {
      expect(delivered, handler).toContainEqual(expect.objectContaining({ handler, status: "succeeded", attempt: 1, tenant: "demo", entity: `lead/${lead}` }));
    }

    // Nothing the sender sent as data, nothing a receiver answered, and no key, in any line the
    // Worker logged (wrangler's own start-up banner lists the local vars; that is not ours).
    const printed = JSON.stringify(lines());
    for (const secret of [email, `Secret Name ${run}`, "dev_demo_key", "test-crm-key", "test-email-key", "test-ai-key"]) expect(printed).not.toContain(secret);
  });
});
