/**
 * Escapes text for Slack's mrkdwn as Slack documents (`&`, `<`, `>`), so a value can never become
 * a mention (`<!channel>`) or a disguised link (`<http://evil|click>`).
 */
export function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A client-supplied value for Slack text, escaped; anything but a string or number shows as `fallback`. */
export function slackValue(value: unknown, fallback = "?"): string {
  return slackEscape(typeof value === "string" || typeof value === "number" ? String(value) : fallback);
}
