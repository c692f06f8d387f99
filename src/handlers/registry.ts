import type { EventDefinition } from "../events/definition.ts";
import { eventDefinition, eventDefinitions } from "../events/registry.ts";
import { aiAnalysis, offerAnalysis } from "./ai.ts";
import { analytics } from "./analytics.ts";
import { crm } from "./crm.ts";
import { database } from "./database.ts";
import { discord } from "./discord.ts";
import { offerEmail, welcomeEmail } from "./email.ts";
import { endpointHandler, endpoints } from "./endpoint.ts";
import { followUp } from "./follow-up.ts";
import type { DestinationKindDef } from "./destination-kind.ts";
import { takes, type Handler, type HandlerFamily, type NotificationChannel } from "./handler.ts";
import { slack } from "./slack.ts";
import { teams } from "./teams.ts";

/**
 * Every handler by name, in the order each event type's handlers run and are listed. Adding one is
 * a file in this folder plus one entry here: the handler says which types it takes, and a
 * destination kind it declares reaches the API, TENANTS, OpenAPI, the dashboard, the CLI and the
 * README from here (kinds.ts).
 */
export const HANDLERS = [slack, discord, teams, welcomeEmail, offerEmail, crm, aiAnalysis, offerAnalysis, database, analytics, followUp] as const;

/** The name of a registered handler. */
export type HandlerName = (typeof HANDLERS)[number]["name"];

const BY_NAME = new Map<string, Handler>(HANDLERS.map((handler) => [handler.name, handler]));

/** Families of handlers the tenant's configuration makes: customer endpoints (`endpoint:{id}`). */
export const FAMILIES: readonly HandlerFamily[] = [endpoints];

/** The family a handler name belongs to, or undefined for a registered handler. */
export function familyOf(name: string): HandlerFamily | undefined {
  return BY_NAME.has(name) ? undefined : FAMILIES.find((f) => f.handler(name) !== undefined);
}

/** A registered handler by name, or a family's (a customer endpoint's). */
export function handler(name: string): Handler | undefined {
  return BY_NAME.get(name) ?? familyOf(name)?.handler(name);
}

const NAMES_FOR = new Map<string, readonly string[]>();

/** The registered handlers that take a type, in the registry's order (endpoints aside). */
export function handlersFor(type: string): readonly string[] {
  let names = NAMES_FOR.get(type);
  if (!names) {
    const definition = eventDefinition(type);
    names = definition ? handlersOf(definition) : [];
    NAMES_FOR.set(type, names);
  }
  return names;
}

function handlersOf(definition: EventDefinition): string[] {
  return HANDLERS.filter((h: Handler) => takes(h, definition)).map((h) => h.name);
}

/** The notification handlers' channels with their destination kinds: where a tenant's alerts can go. */
export function notificationChannels(): Array<{ name: string; kind: DestinationKindDef; channel: NotificationChannel }> {
  return HANDLERS.flatMap((h: Handler) => (h.channel && h.destination ? [{ name: h.name, kind: h.destination, channel: h.channel }] : []));
}

/** Per event type (internal ones included), its handlers: for the README, OpenAPI and the dashboard. */
export function handlerTable(): Array<{ type: string; describe: string; internal: boolean; handlers: readonly string[] }> {
  return eventDefinitions().map((d) => ({ type: d.type, describe: d.describe, internal: d.internal ?? false, handlers: handlersFor(d.type) }));
}

/** Each handler's own description, in the registry's order, endpoints last: for the README. */
export function handlerDocs(): Array<{ name: string; mode: string; destination: string | null; does: string; skippedWhen: string }> {
  return [...HANDLERS, endpointHandler("endpoint:{id}")].map((h: Handler) => ({ name: h.name, mode: h.mode, destination: h.destination?.kind ?? null, ...h.docs }));
}
