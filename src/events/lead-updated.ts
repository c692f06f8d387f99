import { optional, type } from "superstruct";
import { Email, EntityId, NonEmpty } from "../schemas/common.ts";
import { defineEvent } from "./definition.ts";
import { LEAD_MIRROR } from "./mirrors.ts";

export const leadUpdated = defineEvent({
  type: "lead.updated",
  describe: "`id` (+ any lead fields)",
  // Any lead field may change; the ones lead.created requires keep their rules when present.
  data: type({ id: EntityId, email: optional(Email), name: optional(NonEmpty) }),
  mirror: LEAD_MIRROR,
  notify: ({ event: { data }, entity }) => {
    const changed = Object.keys(data).filter((k) => k !== "id").join(", ") || "no fields";
    return {
      icon: "pencil2",
      title: "Lead updated",
      text: [`Lead ${entity.id} updated: ${changed}`],
      fields: [
        { name: "Lead", value: entity.id },
        { name: "Changed", value: changed },
      ],
    };
  },
});
