// One service-neutral notification per event type, rendered by each chat service its own way:
// real deliveries from a lead's actor to the real local receiver, with hostile client values.
import { describe, expect, it } from "vitest";
import { discordEscape } from "../../src/handlers/discord.ts";
import { slackEscape } from "../../src/handlers/slack.ts";
import { teamsEscape } from "../../src/handlers/teams.ts";
import { deliveries, eventually, leadActor, leadEvent, leadKey, receiver, uniqueId } from "./helpers.ts";

const HOSTILE = "<!channel> @everyone **bold** [x](http://evil) `code` <@123>";

async function bodiesFor(eventId: string, leadId: string, handler: string): Promise<Array<Record<string, unknown>>> {
  await eventually(async () => ((await deliveries(leadId, eventId)).slack?.status === "succeeded" && (await deliveries(leadId, eventId)).discord?.status === "succeeded" ? true : undefined), "slack and discord to succeed");
  return (await receiver.calls(`${eventId}:${handler}`)).filter((c) => c.headers["idempotency-key"] === leadKey(leadId, eventId, handler)).map((c) => JSON.parse(c.body) as Record<string, unknown>);
}

describe("notifications", () => {
  it("escapes for each service: Slack's three characters, Discord's markdown and mentions", () => {
    expect(slackEscape("<!channel> & <http://evil|x>")).toBe("&lt;!channel&gt; &amp; &lt;http://evil|x&gt;");
    expect(discordEscape("@everyone **b** [x](y) <@1> :smile:")).toBe("\\@everyone \\*\\*b\\*\\* \\[x\\]\\(y\\) \\<\\@1\\> \\:smile\\:");
  });

  it("renders a lead.created for Slack and Discord from the same message, client values escaped", async () => {
    const leadId = uniqueId();
    const event = leadEvent(leadId, { data: { id: leadId, email: "ada@example.com", name: HOSTILE } });
    await leadActor(leadId).ingest("demo", [event]);

    const [slack] = await bodiesFor(event.id, leadId, "slack");
    expect(slack!.text).toBe(`:wave: New lead *${slackEscape(HOSTILE)}* (ada@example.com) (${leadId})`);
    expect(slack!.text).not.toContain("<!channel>");

    const [discord] = await bodiesFor(event.id, leadId, "discord");
    expect(discord!.allowed_mentions).toEqual({ parse: [] });
    expect(discord!.content).toBe(`:wave: ${discordEscape("New lead ")}**${discordEscape(HOSTILE)}**${discordEscape(` (ada@example.com) (${leadId})`)}`);
    const embed = (discord!.embeds as Array<{ title: string; fields: Array<{ name: string; value: string }> }>)[0]!;
    expect(embed.title).toBe("New lead");
    expect(embed.fields).toContainEqual({ name: "Name", value: discordEscape(HOSTILE), inline: true });
    expect(JSON.stringify(discord)).not.toMatch(/[^\\]@everyone/);
  });

  it("keeps client text on one line in every service: no forged lines, list items, emphasis or reordering", async () => {
    // A name that, rendered as it came, would add a line of its own claiming a payment, as a list
    // item, in bold, with its words reordered by a right-to-left override.
    const forged = "Ada\n\n• *Payment received: 10,000 EUR*\r\n> _approved_ ~~x~~ \u202Eevil\u2028- item\u0085end";
    expect(slackEscape(forged)).not.toMatch(/[\n\r\u2028\u0085\u202E*_~]/);
    expect(slackEscape(forged)).toBe("Ada • \u2217Payment received: 10,000 EUR\u2217 &gt; \u02cdapproved\u02cd \u223c\u223cx\u223c\u223c evil - itemend");
    // Inside a word an underscore is no marker, and stays as it is (emails, ids).
    expect(slackEscape("first_last@example.com ep_3a0b")).toBe("first_last@example.com ep_3a0b");
    expect(discordEscape(forged)).not.toMatch(/[\n\r\u2028\u202E]|[^\\][*_~>]/);
    expect(teamsEscape(forged)).not.toMatch(/[\n\r\u2028\u202E]|[^\\][*_~>-]/);

    const leadId = uniqueId();
    const event = leadEvent(leadId, { data: { id: leadId, email: "ada@example.com", name: forged } });
    await leadActor(leadId).ingest("demo", [event]);
    const [slack] = await bodiesFor(event.id, leadId, "slack");
    expect(slack!.text).toBe(`:wave: New lead *${slackEscape(forged)}* (ada@example.com) (${leadId})`);
    const [discord] = await bodiesFor(event.id, leadId, "discord");
    expect(String(discord!.content)).not.toMatch(/[\n\r\u2028\u202E]/);
    const embed = (discord!.embeds as Array<{ fields: Array<{ name: string; value: string }> }>)[0]!;
    expect(embed.fields).toContainEqual({ name: "Name", value: discordEscape(forged), inline: true });
  });
});
