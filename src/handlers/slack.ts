import { SkipDelivery } from "../delivery/errors";
import { eventDefinition } from "../events/registry";
import { defineHandler } from "./handler";
import { destination, sendJson } from "./http";
import { SETTINGS } from "./settings.ts";

/**
 * Posts a Slack incoming-webhook message. What to post, or why to post nothing, is the event
 * type's to say (its definition's `slack`), so this handler knows no event type.
 */
export const slack = defineHandler({
  name: "slack",
  mode: "inline",
  destination: "slack",
  settings: SETTINGS.slack,
  async run(context) {
    const message = eventDefinition(context.event.type)?.slack?.(context);
    if (!message) throw new SkipDelivery(`${context.event.type} has no Slack message`);
    if ("skip" in message) throw new SkipDelivery(message.skip);
    const { url } = destination(context, "slack");
    await sendJson(context, url, { body: { text: message.text } });
  },
});
