import { PartialBatchError, SkipDelivery } from "../delivery/policy/errors.ts";
import { addUsage } from "../usage.ts";
import { defineHandler, type HandlerContext } from "./handler.ts";

/** Most events one delivery writes: an entity's backlog then costs one attempt, not one per event. */
const MAX_BATCH = 100;

/**
 * Cloudflare refuses more than 250 `writeDataPoint` calls in one invocation, by throwing; an
 * alarm stops below that and leaves the rest to the next one.
 */
export const MAX_POINTS_PER_INVOCATION = 200;

/**
 * One Analytics Engine data point per event: index = tenant; blobs = type, entity type, entity id,
 * event id; doubles = count (1) and the amount where there is one.
 */
export const analytics = defineHandler({
  name: "analytics",
  mode: "inline",
  docs: {
    does: "one Analytics Engine data point per event (index: tenant; blobs: type, entity, event id; doubles: 1, amount); an entity's backlog is written in one attempt (up to 100 events), at most 200 points per alarm (the platform refuses more than 250 per invocation); a batch that fails part-way keeps what it wrote and retries only the rest",
    skippedWhen: "no `ANALYTICS` binding",
  },
  // What clients sent; edgeflow's own events (a follow-up falling due) are not traffic.
  takes: (definition) => !definition.internal,
  maxBatch: MAX_BATCH,
  maxPerInvocation: MAX_POINTS_PER_INVOCATION,
  unconfigured: (env) => (env.ANALYTICS ? null : "not configured: no Analytics Engine binding ANALYTICS"),
  run: async (context) => write([context]),
  runBatch: async (contexts) => write(contexts),
});

/**
 * `writeDataPoint` is not idempotent, so a batch that throws part-way says how many points it
 * wrote: those deliveries succeed and are never written again; the rest are retried.
 */
function write(contexts: HandlerContext[]): void {
  const { env, tenant, entity } = contexts[0]!;
  if (!env.ANALYTICS) throw new SkipDelivery("not configured: no Analytics Engine binding ANALYTICS");
  let written = 0;
  try {
    for (const { event } of contexts) {
      const amount = typeof event.data.amount === "number" ? event.data.amount : 0;
      env.ANALYTICS.writeDataPoint({
        indexes: [tenant],
        blobs: [event.type, entity.type, entity.id, event.id],
        doubles: [1, amount],
      });
      written++;
      addUsage("analyticsPoints");
    }
  } catch (err) {
    if (written === 0) throw err;
    throw new PartialBatchError(written, err);
  }
}
