import type { Notification } from "../events/notification.ts";
import { defineDestination } from "./destination-kind.ts";
import { defineHandler, type NotificationChannel } from "./handler.ts";
import { clip, postNotification, withNotification } from "./notify.ts";

export const SLACK = defineDestination({
  kind: "slack",
  summary: "Slack incoming webhook",
  fields: [{ name: "url", label: "Webhook URL", type: "url", required: true, secret: true, variable: "SLACK_WEBHOOK_URL", local: { path: "/slack" } }],
});

/**
 * Escapes text for Slack's mrkdwn as Slack documents (`&`, `<`, `>`), so a value can never become
 * a mention (`<!channel>`) or a disguised link (`<http://evil|click>`).
 */
export function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** `:icon: text`, emphasis as `*bold*`, every client value escaped. */
function slackText(notification: Notification): string {
  const text = notification.text.map((s) => (typeof s === "string" ? slackEscape(s) : `*${slackEscape(s.strong)}*`)).join("");
  // Slack cuts messages past 40,000 characters; a message that long helps nobody.
  return clip(`:${notification.icon}: ${text}`, 3000);
}

const CHANNEL: NotificationChannel = { render: (notification) => ({ text: slackText(notification) }) };

/** Posts a Slack incoming-webhook message for every event type that has a notification. */
export const slack = defineHandler({
  name: "slack",
  mode: "inline",
  docs: {
    does: "`POST {url} {\"text\"}` to a Slack incoming webhook: the event type's notification as one line, client values escaped for Slack (`&`, `<`, `>`), so they can neither mention `@channel` nor disguise a link",
    skippedWhen: "no destination; the type says to post nothing (a reminder for a `converted` or `closed` lead)",
  },
  takes: withNotification,
  destination: SLACK,
  channel: CHANNEL,
  run: (context) => postNotification(context, SLACK, CHANNEL),
});
