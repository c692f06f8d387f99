import { SkipDelivery } from "../delivery/errors";
import type { JsonObject } from "../types";
import type { Handler, HandlerContext } from "./handler";
import { missingSettings, required, sendJson } from "./http";

const CLOSED_STATUSES = new Set(["converted", "closed"]);

const str = (value: unknown, fallback = "?"): string => (typeof value === "string" || typeof value === "number" ? String(value) : fallback);

function text(context: HandlerContext): string {
  const { event, state, entity } = context;
  const data: JsonObject = event.data;
  switch (event.type) {
    case "lead.created":
      return `:wave: New lead *${str(data.name)}* <${str(data.email)}> (${entity.id})`;
    case "lead.updated":
      return `:pencil2: Lead ${entity.id} updated: ${Object.keys(data).filter((k) => k !== "id").join(", ") || "no fields"}`;
    case "offer.submitted":
      return `:moneybag: Offer ${entity.id} from lead ${str(data.leadId)}: ${str(data.amount)} ${str(data.currency)}`;
    case "lead.follow_up_due":
      return `:alarm_clock: Follow up with *${str(state.name, entity.id)}* <${str(state.email, "no email")}> (${entity.id})`;
    default:
      return `${event.type} for ${entity.type} ${entity.id}`;
  }
}

/** Posts a Slack incoming-webhook message; a follow-up reminder is skipped once the lead is closed. */
export const slack: Handler = {
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
};
