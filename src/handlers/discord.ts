import type { Notification, Segment } from "../events/notification.ts";
import { defineDestination } from "./destination-kind.ts";
import { defineHandler, type NotificationChannel } from "./handler.ts";
import { clip, postNotification, withNotification } from "./notify.ts";
import { oneLine } from "../text.ts";

export const DISCORD = defineDestination({
  kind: "discord",
  summary: "Discord channel webhook",
  fields: [{ name: "url", label: "Webhook URL", type: "url", required: true, secret: true, variable: "DISCORD_WEBHOOK_URL", local: { path: "/discord" } }],
});

/**
 * One line (src/text.ts), then Discord markdown escaped with backslashes: emphasis, code, spoilers, quotes, headings, lists,
 * masked links, emoji shortcodes and mentions (`<@id>`, `@everyone`). Mentions cannot ping anyway
 * (`allowed_mentions` parses none); escaped, they do not even look like one.
 */
export function discordEscape(text: string): string {
  return oneLine(text).replace(/[\\*_~`|>#\-[\]()<:@]/g, "\\$&");
}

const markdown = (segments: Segment[]) => segments.map((s) => (typeof s === "string" ? discordEscape(s) : `**${discordEscape(s.strong)}**`)).join("");

/** The webhook body: the line as `content`, the rest as one embed; limits from Discord's documentation. */
function discordMessage(notification: Notification): object {
  return {
    content: clip(`:${notification.icon}: ${markdown(notification.text)}`, 2000),
    embeds: [
      {
        title: clip(notification.title, 256),
        description: clip(markdown(notification.text), 4096),
        fields: notification.fields.slice(0, 25).map((f) => ({ name: clip(discordEscape(f.name), 256), value: clip(discordEscape(f.value) || "-", 1024), inline: true })),
      },
    ],
    // No client value can ping @everyone, a role or a user.
    allowed_mentions: { parse: [] },
  };
}

const CHANNEL: NotificationChannel = { render: discordMessage, target: withWait };

/** Posts to a Discord channel webhook for every event type that has a notification. */
export const discord = defineHandler({
  name: "discord",
  mode: "inline",
  docs: {
    does: "`POST {url}?wait=true` to a Discord webhook: `content` and one embed (title, description, fields), Discord markdown escaped, `allowed_mentions` parsing nothing, so no client value pings `@everyone`",
    skippedWhen: "no destination; the type says to post nothing",
  },
  takes: withNotification,
  destination: DISCORD,
  // `?wait=true` makes Discord answer once the message exists, so a 2xx means it was posted.
  channel: CHANNEL,
  run: (context) => postNotification(context, DISCORD, CHANNEL),
});

function withWait(url: string): string {
  const target = new URL(url);
  target.searchParams.set("wait", "true");
  return target.href;
}
