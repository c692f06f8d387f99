// The live feed: what a dashboard or `edgeflow tail` watches. Messages go to the tenant's actor,
// which holds the watchers' WebSockets (hibernating, so an idle watcher costs nothing), and only
// while someone watches: the tenant's cached configuration says so (`watching`), so with no
// watcher no message is ever sent and the feed costs nothing per event.
import { tenantActor } from "./actors";
import { tenantRuntime } from "./control/runtime";
import type { LiveMessage } from "./types";

/** Sends messages to the tenant's watchers, if there are any (per the cached configuration). Never throws. */
export async function publishLive(env: Cloudflare.Env, tenant: string, messages: LiveMessage[]): Promise<void> {
  if (messages.length === 0) return;
  try {
    if (!(await tenantRuntime(env, tenant)).watching) return;
    // Counted where it is billed: in the tenant's actor.
    await tenantActor(env, tenant).publish(messages);
  } catch {
    // The feed is best effort: the log and the entity views are the record.
  }
}
