import { type } from "superstruct";
import { Currency, EntityId, PositiveAmount } from "../schemas/common.ts";
import { slackEscape, slackValue } from "../slack-text.ts";
import { defineEvent } from "./definition.ts";

export const offerSubmitted = defineEvent({
  type: "offer.submitted",
  data: type({ id: EntityId, leadId: EntityId, amount: PositiveAmount, currency: Currency }),
  handlers: ["slack", "offer-email", "offer-analysis", "database", "analytics"],
  slack: ({ event: { data }, entity }) => ({
    text: `:moneybag: Offer ${slackEscape(entity.id)} from lead ${slackValue(data.leadId)}: ${slackValue(data.amount)} ${slackValue(data.currency)}`,
  }),
});
