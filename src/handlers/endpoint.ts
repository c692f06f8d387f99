import { endpointHandlerName, endpointIdOf } from "../rpc/names.ts";
import { PermanentError, SkipDelivery } from "../delivery/policy/errors.ts";
import { refusedUrl } from "../net/url-policy.ts";
import { defineHandler, type Handler, type HandlerFamily } from "./handler.ts";
import { sendJson } from "./http.ts";

/**
 * Delivers an event to one of the tenant's customer webhook endpoints (handler `endpoint:{id}`):
 * `POST {url}` of `{type, timestamp, data: {id, seq, entity, occurredAt, data}}`, signed the Standard
 * Webhooks way with the endpoint's own secret, `webhook-id` being the idempotency key. Which events
 * an endpoint takes is the fan-out's to decide (its event types); this only sends.
 */
const endpoint = defineHandler({
  name: "endpoint",
  mode: "inline",
  docs: {
    does: "one per customer webhook endpoint of the tenant (`POST /v1/endpoints`): `POST {url}` of `{\"type\",\"timestamp\",\"data\":{\"id\",\"seq\",\"entity\",\"occurredAt\",\"data\"}}`, signed the Standard Webhooks way with the endpoint's own secret; takes the events of its `eventTypes` (all, internal ones included, when it has none) received since it was created",
    skippedWhen: "the endpoint was deleted (what it had not yet delivered ends `skipped`, at its next due time)",
  },
  // Which types an endpoint takes is its own setting: the family's `takes` below.
  takes: [],
  async run(context) {
    const id = endpointIdOf(context.handler);
    const target = id === null ? undefined : context.configuration.endpoints.get(id);
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

/**
 * Customer endpoints as a family of dynamic handlers: the tenant's configuration says which exist,
 * what each takes and when it began; the fan-out treats them like any other handler.
 */
export const endpoints: HandlerFamily = {
  handler: (name) => (endpointIdOf(name) === null ? undefined : endpointHandler(name)),
  members: (runtime) => [...runtime.endpoints.values()].map((e) => ({ name: endpointHandlerName(e.id), since: e.backfill ? 0 : e.createdAt, types: e.eventTypes })),
  takes(name, type, runtime) {
    const found = runtime.endpoints.get(endpointIdOf(name) ?? "");
    // A deleted endpoint's remaining events are all its to settle, as skipped.
    return found === undefined || found.eventTypes === null || found.eventTypes.includes(type);
  },
  unconfigured: (name, runtime) => (runtime.endpoints.has(endpointIdOf(name) ?? "") ? null : "endpoint deleted"),
};
