import { SkipDelivery } from "../delivery/errors";
import type { Handler } from "./handler";
import { missingSettings, required, sendJson } from "./http";

/** Upserts the lead's current state: `PUT {CRM_API_URL}/contacts/{leadId}`. Idempotent by design. */
export const crm: Handler = {
  name: "crm",
  mode: "queued",
  unconfigured: (env) => missingSettings(env, "CRM_API_URL", "CRM_API_KEY"),
  async run(context) {
    if (context.entity.type !== "lead") throw new SkipDelivery("only leads are synced to the CRM");
    const [url, key] = required(context, "CRM_API_URL", "CRM_API_KEY");
    await sendJson(context, `${url!.replace(/\/$/, "")}/contacts/${encodeURIComponent(context.entity.id)}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${key}` },
      body: { id: context.entity.id, ...context.state, updatedBy: context.event.id },
    });
  },
};
