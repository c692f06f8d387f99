import { type } from "superstruct";
import { Currency, EntityId, PositiveAmount } from "../schemas/common.ts";
import { defineEvent } from "./definition.ts";
import { OFFER_MIRROR } from "./mirrors.ts";
import { shown } from "./notification.ts";

export const offerSubmitted = defineEvent({
  type: "offer.submitted",
  describe: "`id`, `leadId`, `amount` > 0, `currency` (ISO 4217)",
  data: type({ id: EntityId, leadId: EntityId, amount: PositiveAmount, currency: Currency }),
  mirror: OFFER_MIRROR,
  notify: ({ event: { data }, entity }) => ({
    icon: "moneybag",
    title: "New offer",
    text: [`Offer ${entity.id} from lead ${shown(data.leadId)}: `, { strong: `${shown(data.amount)} ${shown(data.currency)}` }],
    fields: [
      { name: "Offer", value: entity.id },
      { name: "Lead", value: shown(data.leadId) },
      { name: "Amount", value: `${shown(data.amount)} ${shown(data.currency)}` },
    ],
  }),
});
