import { type } from "superstruct";
import { Email, EntityId, NonEmpty } from "../schemas/common";
import { defineEvent } from "./definition";

export const leadCreated = defineEvent({
  type: "lead.created",
  data: type({ id: EntityId, email: Email, name: NonEmpty }),
  handlers: ["slack", "welcome-email", "crm", "ai-analysis", "database", "analytics", "follow-up"],
});
