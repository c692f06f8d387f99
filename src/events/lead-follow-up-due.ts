import { type } from "superstruct";
import { EntityId } from "../schemas/common";
import { defineEvent } from "./definition";

export const leadFollowUpDue = defineEvent({
  type: "lead.follow_up_due",
  data: type({ id: EntityId }),
  handlers: ["slack"],
  internal: true,
});
