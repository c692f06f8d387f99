import { type } from "superstruct";
import { EntityId } from "../schemas/common.ts";
import { slackEscape, slackValue } from "../slack-text.ts";
import { defineEvent } from "./definition.ts";

const CLOSED_STATUSES = new Set(["converted", "closed"]);

export const leadFollowUpDue = defineEvent({
  type: "lead.follow_up_due",
  data: type({ id: EntityId }),
  handlers: ["slack"],
  // The reminder is moot once the lead is converted or closed by the time it falls due.
  slack: ({ state, entity }) =>
    CLOSED_STATUSES.has(slackValue(state.status, ""))
      ? { skip: `lead is ${slackValue(state.status)}; no reminder needed` }
      : { text: `:alarm_clock: Follow up with *${slackValue(state.name, entity.id)}* (${slackValue(state.email, "no email")}) (${slackEscape(entity.id)})` },
  internal: true,
});
