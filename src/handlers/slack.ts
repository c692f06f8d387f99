import { SkipDelivery } from "../delivery/errors";
import type { JsonObject } from "../types";
import { defineHandler, type HandlerContext } from "./handler";
import { missingSettings, required, sendJson } from "./http";

const CLOSED_STATUSES = new Set(["converted", "closed"]);

/**
 * Escapes text for Slack's mrkdwn as Slack documents (`&`, `<`, `>`), so a value can never become
 * a mention (`<!channel>`) or a disguised link (`<http://evil|click>`).
 */
export function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A client-supplied value, escaped; anything that is not a string or number shows as `fallback`. */
const str = (value: unknown, fallback = "?"): string => slackEscape(typeof value === "string" || typeof value === "number" ? String(value) : fallback);

function text(context: HandlerContext): string {
  const { event, state } = context;
  const data: JsonObject = event.data;
  const id = slackEscape(context.entity.id);
  switch (event.type) {
    case "lead.created":
      return `:wave: New lead *${str(data.name)}* (${str(data.email)}) (${id})`;
    case "lead.updated":
      return `:pencil2: Lead ${id} updated: ${slackEscape(Object.keys(data).filter((k) => k !== "id").join(", ")) || "no fields"}`;
    case "offer.submitted":
      return `:moneybag: Offer ${id} from lead ${str(data.leadId)}: ${str(data.amount)} ${str(data.currency)}`;
    case "lead.follow_up_due":
      return `:alarm_clock: Follow up with *${str(state.name, context.entity.id)}* (${str(state.email, "no email")}) (${id})`;
    default:
      return `${slackEscape(event.type)} for ${slackEscape(context.entity.type)} ${id}`;
  }
}

/** Posts a Slack incoming-webhook message; a follow-up reminder is skipped once the lead is closed. */
export const slack = defineHandler({
  name: "slack",
  mode: "inline",
  unconfigured: (env) => missingSettings(env, "SLACK_WEBHOOK_URL"),
  async run(context) {
    if (context.event.type === "lead.follow_up_due" && CLOSED_STATUSES.has(str(context.state.status, ""))) {
      throw new SkipDelivery(`lead is ${str(context.state.status)}; no reminder needed`);
    }
    const [url] = required(context, "SLACK_WEBHOOK_URL");
    await sendJson(context, url!, { body: { text: text(context) } });
  },
});
