// One service-neutral notification per event type, rendered by each chat service its own way:
// real deliveries from a lead's actor to the real local receiver, with hostile client values.
import { describe, expect, it } from "vitest";
import { discordEscape } from "../../src/handlers/discord.ts";
import { slackEscape } from "../../src/handlers/slack.ts";
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
});
