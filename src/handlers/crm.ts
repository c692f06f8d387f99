import { PermanentError } from "../delivery/policy/errors.ts";
import { defineDestination } from "./destination-kind.ts";
import { defineHandler } from "./handler.ts";
import { destination, sendJson } from "./http.ts";

export const CRM = defineDestination({
  kind: "crm",
  summary: "CRM contacts API (`PUT {url}/contacts/{id}`)",
  fields: [
    { name: "url", label: "API URL", type: "url", required: true, secret: false, variable: "CRM_API_URL", local: { path: "/crm" } },
    { name: "apiKey", label: "API key", type: "text", required: true, secret: true, variable: "CRM_API_KEY", local: { value: "test-crm-key" } },
  ],
});

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
  docs: {
    does: "`PUT {url}/contacts/{leadId}` with the lead's current state; the id is one percent-encoded path segment; a burst for one lead is one call (coalesced, with the newest event's key)",
    skippedWhen: "no destination",
  },
  coalesce: true,
  // Only leads are contacts.
  takes: ["lead.created", "lead.updated"],
  destination: CRM,
  async run(context) {
    const { url, apiKey: key } = destination(context, CRM);
    await sendJson(context, contactUrl(url, context.entity.id), {
      method: "PUT",
      headers: { authorization: `Bearer ${key}` },
      body: { id: context.entity.id, ...context.state, updatedBy: context.event.id },
    });
  },
});
