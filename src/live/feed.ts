// The live feed: what a dashboard or `edgeflow tail` watches. Messages go to the tenant's actor,
// which holds the watchers' WebSockets (hibernating, so an idle watcher costs nothing), and only
// while someone watches: the tenant's cached configuration says so (`watching`), so with no
// watcher no message is ever sent and the feed costs nothing per event.
//
// While someone watches, messages are batched per isolate and tenant: the first caller with
// something to send becomes the batch's sender, waits FLUSH_MS in its own context gathering what
// other requests and alarms of this isolate add (plain data, no I/O handed between requests),
// then sends the lot in one RPC. A busy tenant's actor so gets a few requests a second from each
// isolate, not one per event.
import { tenantActor } from "../rpc/actors.ts";
import { tenantConfiguration } from "../control/runtime.ts";
import type { LiveMessage } from "../types.ts";

/** How long a batch gathers before it is sent: the feed's added latency. */
const FLUSH_MS = 500;
/** Most messages one batch keeps; past it the oldest are dropped (the log and the views are the record). */
const MAX_BATCH = 1_000;

const batches = new Map<string, LiveMessage[]>();

/**
 * Sends messages to the tenant's watchers, if there are any (per the cached configuration), in
 * this isolate's next batch. Resolves once the batch is sent when this caller sends it, at once
 * otherwise. Never throws.
 */
export async function publishLive(env: Cloudflare.Env, tenant: string, messages: LiveMessage[]): Promise<void> {
  if (messages.length === 0) return;
  try {
    if (!(await tenantConfiguration(env, tenant)).watching) return;
    const gathering = batches.get(tenant);
    if (gathering) {
      gathering.push(...messages);
      if (gathering.length > MAX_BATCH) gathering.splice(0, gathering.length - MAX_BATCH);
      return;
    }
    const batch = [...messages];
    batches.set(tenant, batch);
    await new Promise((resolve) => setTimeout(resolve, FLUSH_MS));
    batches.delete(tenant);
    // Counted where it is billed: in the tenant's actor.
    await tenantActor(env, tenant).publish(batch);
  } catch {
    // The feed is best effort: the log and the entity views are the record.
    batches.delete(tenant);
  }
}
