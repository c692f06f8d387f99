import { PermanentError, SkipDelivery } from "../delivery/errors";
import { defineHandler } from "./handler";
import { destination, sendJson } from "./http";
import { SETTINGS } from "./settings.ts";

/**
 * `{CRM_API_URL}/contacts/{id}` with the id as one path segment. Ids "." and ".." are refused at
 * the boundary (a URL resolves them as segments, which `encodeURIComponent` leaves as they are);
 * this checks again, because a wrong URL here carries the CRM's bearer key.
 */
export function contactUrl(base: string, id: string): string {
  if (id === "." || id === "..") throw new PermanentError(`entity id ${id} cannot name a CRM contact`);
  return `${base.replace(/\/$/, "")}/contacts/${encodeURIComponent(id)}`;
}

/** Upserts the lead's current state: `PUT {CRM_API_URL}/contacts/{leadId}`. Idempotent by design. */
export const crm = defineHandler({
  name: "crm",
  mode: "queued",
  coalesce: true,
  destination: "crm",
  settings: SETTINGS.crm,
  async run(context) {
    if (context.entity.type !== "lead") throw new SkipDelivery("only leads are synced to the CRM");
    const { url, apiKey: key } = destination(context, "crm");
    await sendJson(context, contactUrl(url, context.entity.id), {
      method: "PUT",
      headers: { authorization: `Bearer ${key}` },
      body: { id: context.entity.id, ...context.state, updatedBy: context.event.id },
    });
  },
});
