import type { Notification, Segment } from "../events/notification.ts";
import { defineDestination } from "./destination-kind.ts";
import { defineHandler, type NotificationChannel } from "./handler.ts";
import { clip, postNotification, withNotification } from "./notify.ts";
import { oneLine } from "../text.ts";

export const TEAMS = defineDestination({
  kind: "teams",
  summary: "Microsoft Teams Workflows (or incoming) webhook",
  fields: [{ name: "url", label: "Webhook URL", type: "url", required: true, secret: true, variable: "TEAMS_WEBHOOK_URL", local: { path: "/teams" } }],
});

/** Teams has no emoji shortcodes: the ones edgeflow's event types use, as characters. */
const ICONS: Record<string, string> = { wave: "👋", pencil2: "✏️", moneybag: "💰", alarm_clock: "⏰", rotating_light: "🚨" };

/**
 * One line (src/text.ts), then the markdown subset Adaptive Cards render in Teams (emphasis, links, lists, headings,
 * code) with backslashes, and breaks `{{…}}`, which a card would read as a DATE/TIME function.
 * Mentions need an `msteams.entities` entry, which edgeflow never sends, so `<at>` is just text.
 */
export function teamsEscape(text: string): string {
  return oneLine(text).replace(/[\\*_~`[\]()#>+\-!|]/g, "\\$&").replace(/\{\{/g, "{\u200b{");
}

const markdown = (segments: Segment[]) => segments.map((s) => (typeof s === "string" ? teamsEscape(s) : `**${teamsEscape(s.strong)}**`)).join("");

/** A `message` with one Adaptive Card 1.4: heading, the line, and the fields as a fact set. */
export function teamsMessage(notification: Notification): object {
  const icon = ICONS[notification.icon];
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            { type: "TextBlock", text: teamsEscape(`${icon ? `${icon} ` : ""}${notification.title}`), weight: "Bolder", size: "Medium", wrap: true },
            { type: "TextBlock", text: clip(markdown(notification.text), 4000), wrap: true },
            { type: "FactSet", facts: notification.fields.map((f) => ({ title: clip(teamsEscape(f.name), 200), value: clip(teamsEscape(f.value), 1000) })) },
          ],
        },
      },
    ],
  };
}

const CHANNEL: NotificationChannel = { render: teamsMessage };

/** Posts an Adaptive Card to a Teams webhook for every event type that has a notification. */
export const teams = defineHandler({
  name: "teams",
  mode: "inline",
  docs: {
    does: "`POST {url}` of a `message` with one Adaptive Card 1.4 attachment (heading, the line, the fields as a fact set) to a Teams Workflows webhook; Teams markdown escaped and `{{…}}` broken, so client text stays text",
    skippedWhen: "no destination; the type says to post nothing",
  },
  takes: withNotification,
  destination: TEAMS,
  channel: CHANNEL,
  run: (context) => postNotification(context, TEAMS, CHANNEL),
});
