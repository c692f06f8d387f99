import { type } from "superstruct";
import { Email, EntityId, NonEmpty } from "../schemas/common.ts";
import { defineEvent } from "./definition.ts";
import { LEAD_MIRROR } from "./mirrors.ts";
import { shown } from "./notification.ts";

export const leadCreated = defineEvent({
  type: "lead.created",
  describe: "`id`, `email`, `name`",
  data: type({ id: EntityId, email: Email, name: NonEmpty }),
  mirror: LEAD_MIRROR,
  notify: ({ event: { data }, entity }) => ({
    icon: "wave",
    title: "New lead",
    text: ["New lead ", { strong: shown(data.name) }, ` (${shown(data.email)}) (${entity.id})`],
    fields: [
      { name: "Name", value: shown(data.name) },
      { name: "Email", value: shown(data.email) },
      { name: "Lead", value: entity.id },
    ],
  }),
});
