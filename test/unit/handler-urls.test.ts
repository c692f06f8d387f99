import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { contactUrl } from "../../src/handlers/crm.ts";
import { slackEscape } from "../../src/handlers/slack.ts";
import { apiRequest, deliveries, eventually, leadActor, leadEvent, receiver, uniqueId } from "./helpers.ts";

const post = (json: unknown) => exports.default.fetch(apiRequest("/v1/events", { method: "POST", json }));

describe("outbound calls built from client input", () => {
  it("puts the whole entity id in one CRM path segment, whatever it contains", async () => {
    const leadId = `${uniqueId()}?x=1#frag%2e%2e&y`;
    const id = `evt_${crypto.randomUUID()}`;
    expect((await post({ id, type: "lead.updated", data: { id: leadId, plan: "pro" } })).status).toBe(202);
    const [call] = await eventually(async () => {
      const calls = await receiver.calls(`${id}:crm`);
      return calls.length > 0 ? calls : undefined;
    }, "the CRM call", 15_000);
    expect(call!.path).toBe(`/crm/contacts/${encodeURIComponent(leadId)}`);
    expect(call!.headers.authorization).toBe("Bearer test-crm-key");
  });

  it("never sends the CRM key to a path that resolves outside /contacts, even for an id that got past validation", async () => {
    expect(() => contactUrl("https://crm.example/api", "..")).toThrow(/cannot name a CRM contact/);
    expect(() => contactUrl("https://crm.example/api", ".")).toThrow(/cannot name a CRM contact/);
    expect(new URL(contactUrl("https://crm.example/api/", "...")).pathname).toBe("/api/contacts/...");
    // An actor holding such an id from before validation refused it: the delivery dies, no call is made.
    const event = leadEvent("..", { type: "lead.updated", data: { id: "..", plan: "pro" } });
    await leadActor("..").ingest("demo", [event]);
    const crm = await eventually(async () => {
      const d = (await deliveries("..", event.id)).crm;
      return d?.status === "dead" ? d : undefined;
    }, "the CRM delivery to die", 15_000);
    expect(crm.lastError).toMatch(/cannot name a CRM contact/);
    expect(await receiver.calls(`${event.id}:crm`)).toEqual([]);
  });

  it("escapes &, < and > in Slack text, so a lead's name can neither ping everyone nor disguise a link", async () => {
    expect(slackEscape("<!channel> <http://evil|click> & co")).toBe("&lt;!channel&gt; &lt;http://evil|click&gt; &amp; co");
    const leadId = uniqueId();
    const id = `evt_${crypto.randomUUID()}`;
    const name = "<!channel> <http://evil.example|click here> & co";
    expect((await post({ id, type: "lead.created", data: { id: leadId, email: "x@example.com", name } })).status).toBe(202);
    const [call] = await eventually(async () => {
      const calls = await receiver.calls(`${id}:slack`);
      return calls.length > 0 ? calls : undefined;
    }, "the Slack call");
    const text = (JSON.parse(call!.body) as { text: string }).text;
    expect(text).toContain("&lt;!channel&gt; &lt;http://evil.example|click here&gt; &amp; co");
    expect(text).not.toMatch(/<!channel>|<http/);
  });
});
