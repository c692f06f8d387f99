import { SkipDelivery } from "../delivery/errors";
import type { Handler, HandlerContext } from "./handler";

/** Most events one delivery writes: an entity's backlog then costs one attempt, not one per event. */
const MAX_BATCH = 100;

/**
 * One Analytics Engine data point per event: index = tenant; blobs = type, entity type, entity id,
 * event id; doubles = count (1) and the amount where there is one.
 */
export const analytics: Handler = {
  name: "analytics",
  mode: "inline",
  maxBatch: MAX_BATCH,
  unconfigured: (env) => (env.ANALYTICS ? null : "not configured: no Analytics Engine binding ANALYTICS"),
  run: async (context) => write([context]),
  runBatch: async (contexts) => write(contexts),
};

function write(contexts: HandlerContext[]): void {
  const { env, tenant, entity } = contexts[0]!;
  if (!env.ANALYTICS) throw new SkipDelivery("not configured: no Analytics Engine binding ANALYTICS");
  for (const { event } of contexts) {
    const amount = typeof event.data.amount === "number" ? event.data.amount : 0;
    env.ANALYTICS.writeDataPoint({
      indexes: [tenant],
      blobs: [event.type, entity.type, entity.id, event.id],
      doubles: [1, amount],
    });
  }
}
