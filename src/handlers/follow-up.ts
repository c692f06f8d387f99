import { defineHandler } from "./handler.ts";

/**
 * Schedules `lead.follow_up_due` on the lead's own actor, `FOLLOW_UP_DELAY_MS` after the lead
 * was created. The actor stores the timer with the delivery's outcome, so it fires exactly once.
 */
export const followUp = defineHandler({
  name: "follow-up",
  mode: "inline",
  docs: { does: "schedules `lead.follow_up_due` on the lead's actor at `occurredAt + FOLLOW_UP_DELAY_MS`", skippedWhen: "—" },
  takes: ["lead.created"],
  async run({ settings, event, entity }) {
    return { schedule: { type: "lead.follow_up_due", at: event.occurredAt + settings.followUpDelayMs, data: { id: entity.id } } };
  },
});
