import { type } from "superstruct";
import { Email, EntityId, NonEmpty } from "../schemas/common.ts";
import { slackEscape, slackValue } from "../slack-text.ts";
import { defineEvent } from "./definition.ts";
import { LEAD_MIRROR } from "./mirrors.ts";

export const leadCreated = defineEvent({
  type: "lead.created",
  data: type({ id: EntityId, email: Email, name: NonEmpty }),
  mirror: LEAD_MIRROR,
  handlers: ["slack", "welcome-email", "crm", "ai-analysis", "database", "analytics", "follow-up"],
  slack: ({ event: { data }, entity }) => ({ text: `:wave: New lead *${slackValue(data.name)}* (${slackValue(data.email)}) (${slackEscape(entity.id)})` }),
});
