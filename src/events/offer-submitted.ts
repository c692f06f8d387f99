import { type } from "superstruct";
import { Currency, EntityId, PositiveAmount } from "../schemas/common";
import { defineEvent } from "./definition";

export const offerSubmitted = defineEvent({
  type: "offer.submitted",
  data: type({ id: EntityId, leadId: EntityId, amount: PositiveAmount, currency: Currency }),
  handlers: ["slack", "offer-email", "offer-analysis", "database", "analytics"],
});
