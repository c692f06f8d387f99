// What the notification handlers (Slack, Discord, Teams) share: they take every event type that
// says something to people, and each renders that service-neutral message its own way.
import { SkipDelivery } from "../delivery/policy/errors.ts";
import type { EventDefinition } from "../events/definition.ts";
import type { Notification } from "../events/notification.ts";
import { eventDefinition } from "../events/registry.ts";
import type { DestinationKindDef } from "./destination-kind.ts";
import type { HandlerContext, NotificationChannel } from "./handler.ts";
import { destination, sendJson } from "./http.ts";

/** `takes` for a notification handler: every type whose definition has a notification. */
export const withNotification = (definition: EventDefinition): boolean => definition.notify !== undefined;

/** The delivery's notification; throws SkipDelivery when its type says to post nothing. */
export function notificationOf(context: HandlerContext): Notification {
  const result = eventDefinition(context.event.type)?.notify?.(context);
  if (!result) throw new SkipDelivery(`${context.event.type} has no notification`);
  if ("skip" in result) throw new SkipDelivery(result.skip);
  return result;
}

/** Cuts text to a service's limit, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A notification handler's `run`: renders the delivery's notification for its channel and posts it. */
export async function postNotification(context: HandlerContext, kind: DestinationKindDef, channel: NotificationChannel): Promise<void> {
  const body = channel.render(notificationOf(context));
  const { url } = destination(context, kind);
  await sendJson(context, channel.target?.(url) ?? url, { body });
}
