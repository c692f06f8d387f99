import { SkipDelivery } from "../delivery/errors";
import type { Handler } from "./handler";

/**
 * One Analytics Engine data point per event: index = tenant; blobs = type, entity type, entity id,
 * event id; doubles = count (1) and the amount where there is one.
 */
export const analytics: Handler = {
  name: "analytics",
  mode: "inline",
  unconfigured: (env) => (env.ANALYTICS ? null : "not configured: no Analytics Engine binding ANALYTICS"),
  async run({ env, tenant, entity, event }) {
    if (!env.ANALYTICS) throw new SkipDelivery("not configured: no Analytics Engine binding ANALYTICS");
    const amount = typeof event.data.amount === "number" ? event.data.amount : 0;
    env.ANALYTICS.writeDataPoint({
      indexes: [tenant],
      blobs: [event.type, entity.type, entity.id, event.id],
      doubles: [1, amount],
    });
  },
};
