// The Teams handler, built the way every notification handler is: a real delivery from a lead's
// actor to the real local receiver, a hostile name, and a retry under the same key.
import { describe, expect, it } from "vitest";
import { teamsEscape } from "../../src/handlers/teams.ts";
import { deliveries, eventually, leadActor, leadEvent, leadKey, receiver, uniqueId } from "./helpers.ts";

const HOSTILE = "**Ada** [click](http://evil) {{DATE(2026-01-01T00:00:00Z)}} <at>everyone</at> - item";

interface Card {
  type: string;
  attachments: Array<{ contentType: string; content: { type: string; version: string; body: Array<{ type: string; text?: string; facts?: Array<{ title: string; value: string }> }> } }>;
}

describe("the teams handler", () => {
  it("escapes Teams markdown and card functions", () => {
    expect(teamsEscape("**b** [x](y) - {{DATE(1)}}")).toBe("\\*\\*b\\*\\* \\[x\\]\\(y\\) \\- {\u200b{DATE\\(1\\)}}");
  });

  it("posts an Adaptive Card 1.4 message for a lead.created, client values escaped, retried under one key", async () => {
    const leadId = uniqueId();
    const event = leadEvent(leadId, { data: { id: leadId, email: "ada@example.com", name: HOSTILE } });
    await receiver.script(`${event.id}:teams`, [{ status: 503 }]);
    await leadActor(leadId).ingest("demo", [event]);
    await eventually(async () => ((await deliveries(leadId, event.id)).teams?.status === "succeeded" ? true : undefined), "teams to succeed");

    const calls = (await receiver.calls(`${event.id}:teams`)).filter((c) => c.headers["idempotency-key"] === leadKey(leadId, event.id, "teams"));
    expect(calls.map((c) => c.status)).toEqual([503, 200]);
    for (const c of calls) expect(c.headers).toMatchObject({ "idempotency-key": leadKey(leadId, event.id, "teams"), "edgeflow-seq": "1", "edgeflow-handler": "teams" });
    const card = JSON.parse(calls[1]!.body) as Card;
    expect(card.type).toBe("message");
    expect(card.attachments[0]!.contentType).toBe("application/vnd.microsoft.card.adaptive");
    const { content } = card.attachments[0]!;
    expect(content).toMatchObject({ type: "AdaptiveCard", version: "1.4" });
    expect(content.body[0]).toMatchObject({ type: "TextBlock", text: "👋 New lead" });
    expect(content.body[1]!.text).toBe(`${teamsEscape("New lead ")}**${teamsEscape(HOSTILE)}**${teamsEscape(` (ada@example.com) (${leadId})`)}`);
    expect(content.body[2]!.facts).toContainEqual({ title: "Name", value: teamsEscape(HOSTILE) });
    expect(calls[1]!.body).not.toContain("{{DATE");
  });
});
