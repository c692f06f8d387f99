import { aiAnalysis, offerAnalysis } from "./ai";
import { analytics } from "./analytics";
import { crm } from "./crm";
import { database } from "./database";
import { offerEmail, welcomeEmail } from "./email";
import { followUp } from "./follow-up";
import type { Handler } from "./handler";
import { slack } from "./slack";

/** Every handler by name. Adding one is a file in this folder plus one entry here. */
const HANDLERS: readonly Handler[] = [slack, welcomeEmail, offerEmail, crm, aiAnalysis, offerAnalysis, database, analytics, followUp];

const BY_NAME = new Map(HANDLERS.map((handler) => [handler.name, handler]));

export function handler(name: string): Handler | undefined {
  return BY_NAME.get(name);
}
