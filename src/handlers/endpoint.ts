import { endpointIdOf } from "../control/model";
import { PermanentError, SkipDelivery } from "../delivery/errors";
import { refusedUrl } from "../net/url-policy";
import { defineHandler, type Handler } from "./handler";
import { sendJson } from "./http";

/**
 * Delivers an event to one of the tenant's customer webhook endpoints (handler `endpoint:{id}`):
 * `POST {url}` of `{type, timestamp, data: {id, seq, entity, occurredAt, data}}`, signed the Standard
 * Webhooks way with the endpoint's own secret, `webhook-id` being the idempotency key. Which events
 * an endpoint takes is the fan-out's to decide (its event types); this only sends.
 */
const endpoint = defineHandler({
  name: "endpoint",
  mode: "inline",
  async run(context) {
    const id = endpointIdOf(context.handler);
    const target = id === null ? undefined : context.tenantConfig.endpoints.get(id);
    if (!target) throw new SkipDelivery("endpoint deleted");
    const refused = refusedUrl(target.url, { env: context.env });
    if (refused) throw new PermanentError(`refused by the outbound address policy: ${refused}`);
    const { event, entity } = context;
    await sendJson(context, target.url, {
      signWith: target.secret,
      body: {
        type: event.type,
        timestamp: new Date().toISOString(),
        data: { id: event.id, seq: event.seq, entity, occurredAt: new Date(event.occurredAt).toISOString(), data: event.data },
      },
    });
  },
});

const byName = new Map<string, Handler>();

/** The handler for `endpoint:{id}`: one per name, so each endpoint has its own cursor and chain. */
export function endpointHandler(name: string): Handler {
  let found = byName.get(name);
  if (!found) {
    found = { ...endpoint, name };
    byName.set(name, found);
  }
  return found;
}
