import { aiAnalysis, offerAnalysis } from "./ai";
import { analytics } from "./analytics";
import { endpointIdOf } from "../control/model";
import { crm } from "./crm";
import { endpointHandler } from "./endpoint";
import { database } from "./database";
import { offerEmail, welcomeEmail } from "./email";
import { followUp } from "./follow-up";
import type { Handler } from "./handler";
import { slack } from "./slack";

/** Every handler by name. Adding one is a file in this folder plus one entry here. */
export const HANDLERS = [slack, welcomeEmail, offerEmail, crm, aiAnalysis, offerAnalysis, database, analytics, followUp] as const;

/** The name of a registered handler: an event definition that names any other fails `tsc`. */
export type HandlerName = (typeof HANDLERS)[number]["name"];

const BY_NAME = new Map<string, Handler>(HANDLERS.map((handler) => [handler.name, handler]));

/** A registered handler by name, or the handler of a customer endpoint (`endpoint:{id}`). */
export function handler(name: string): Handler | undefined {
  return BY_NAME.get(name) ?? (endpointIdOf(name) !== null ? endpointHandler(name) : undefined);
}
