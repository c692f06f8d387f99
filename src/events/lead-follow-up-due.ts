import { type } from "superstruct";
import { EntityId } from "../schemas/common.ts";
import { defineEvent } from "./definition.ts";
import { shown } from "./notification.ts";

const CLOSED_STATUSES = new Set(["converted", "closed"]);

export const leadFollowUpDue = defineEvent({
  type: "lead.follow_up_due",
  describe: "emitted by the lead's actor after `FOLLOW_UP_DELAY_MS`",
  data: type({ id: EntityId }),
  // The reminder is moot once the lead is converted or closed by the time it falls due.
  notify: ({ state, entity }) =>
    CLOSED_STATUSES.has(shown(state.status, ""))
      ? { skip: `lead is ${shown(state.status)}; no reminder needed` }
      : {
          icon: "alarm_clock",
          title: "Follow up",
          text: ["Follow up with ", { strong: shown(state.name, entity.id) }, ` (${shown(state.email, "no email")}) (${entity.id})`],
          fields: [
            { name: "Lead", value: entity.id },
            { name: "Email", value: shown(state.email, "no email") },
          ],
        },
  internal: true,
});
