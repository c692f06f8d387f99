import { type } from "superstruct";
import { Currency, EntityId, PositiveAmount } from "../schemas/common.ts";
import { slackEscape, slackValue } from "../slack-text.ts";
import { defineEvent } from "./definition.ts";
import { OFFER_MIRROR } from "./mirrors.ts";

export const offerSubmitted = defineEvent({
  type: "offer.submitted",
  data: type({ id: EntityId, leadId: EntityId, amount: PositiveAmount, currency: Currency }),
  mirror: OFFER_MIRROR,
  handlers: ["slack", "offer-email", "offer-analysis", "database", "analytics"],
  slack: ({ event: { data }, entity }) => ({
    text: `:moneybag: Offer ${slackEscape(entity.id)} from lead ${slackValue(data.leadId)}: ${slackValue(data.amount)} ${slackValue(data.currency)}`,
  }),
});
