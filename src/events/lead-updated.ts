import { optional, type } from "superstruct";
import { Email, EntityId, NonEmpty } from "../schemas/common.ts";
import { slackEscape } from "../slack-text.ts";
import { defineEvent } from "./definition.ts";
import { LEAD_MIRROR } from "./mirrors.ts";

export const leadUpdated = defineEvent({
  type: "lead.updated",
  // Any lead field may change; the ones lead.created requires keep their rules when present.
  data: type({ id: EntityId, email: optional(Email), name: optional(NonEmpty) }),
  mirror: LEAD_MIRROR,
  handlers: ["slack", "crm", "database", "analytics"],
  slack: ({ event: { data }, entity }) => ({
    text: `:pencil2: Lead ${slackEscape(entity.id)} updated: ${slackEscape(Object.keys(data).filter((k) => k !== "id").join(", ")) || "no fields"}`,
  }),
});
