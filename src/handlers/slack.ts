import type { Notification } from "../events/notification.ts";
import { defineDestination } from "./destination-kind.ts";
import { defineHandler, type NotificationChannel } from "./handler.ts";
import { clip, postNotification, withNotification } from "./notify.ts";
import { oneLine } from "../text.ts";

export const SLACK = defineDestination({
  kind: "slack",
  summary: "Slack incoming webhook",
  fields: [{ name: "url", label: "Webhook URL", type: "url", required: true, secret: true, variable: "SLACK_WEBHOOK_URL", local: { path: "/slack" } }],
});

/**
 * Slack's mrkdwn has no escape for its emphasis markers, so client text gets look-alikes that
 * mrkdwn does not read: `*`, `_` and `~` where they could open or close emphasis (not between two
 * letters or digits, so `first_last@example.com` and `ep_3a0b` stay as they are), and every
 * backtick. Otherwise they would bold, italicise, strike or code-format what follows them, and a
 * lead could make its own name look like edgeflow's words.
 */
const LOOK_ALIKES: Record<string, string> = { "*": "\u2217", _: "\u02cd", "~": "\u223c", "`": "\u02cb" };
const WORD = /[\p{L}\p{N}]/u;

function withoutEmphasis(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const inWord = WORD.test(text[i - 1] ?? "") && WORD.test(text[i + 1] ?? "");
    out += c === "`" || ((c === "*" || c === "_" || c === "~") && !inWord) ? LOOK_ALIKES[c]! : c;
  }
  return out;
}

/**
 * Text for Slack's mrkdwn: one line (src/text.ts), the characters Slack documents escaped (`&`,
 * `<`, `>`), so a value can never become a mention (`<!channel>`) or a disguised link
 * (`<http://evil|click>`), and the emphasis markers swapped for look-alikes.
 */
export function slackEscape(text: string): string {
  return withoutEmphasis(oneLine(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"));
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
