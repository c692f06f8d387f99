import { actorName, entityActor } from "./actors";
import type { IncomingEvent, IngestResult } from "./types";

/** Most events one grouped call carries: the batch endpoint's limit. */
const MAX_GROUP = 100;

/** What a waiting caller is told: its result, its error, or that it leads the next call. */
type Turn = { result: IngestResult } | { error: unknown } | { lead: true };

interface Waiter {
  event: IncomingEvent;
  settle: (turn: Turn) => void;
}

interface Lane {
  /** True while a call to this entity's actor is in flight from this isolate. */
  busy: boolean;
  waiting: Waiter[];
}

/** The call a group is sent with: all of one entity's gathered events, results in order. */
export type IngestCall = (env: Cloudflare.Env, tenant: string, events: IncomingEvent[]) => Promise<IngestResult[]>;

/**
 * Group commit: stores one event in its entity's actor, sharing the call with the other events
 * for the same entity that arrive in this isolate meanwhile. The first event goes at once; while
 * its call is in flight, later ones gather, and when it returns the first of them sends them all
 * in one call (one RPC, one transaction). No timer: at low load nothing waits. A caller whose
 * event went in another caller's call is handed only its result (plain data), never a stub or any
 * other I/O object of that request; each caller gets its own answer: accepted, duplicate,
 * conflict, or the error of the call that carried its event.
 */
export function groupCommit(call: IngestCall): (env: Cloudflare.Env, tenant: string, event: IncomingEvent) => Promise<IngestResult> {
  const lanes = new Map<string, Lane>();
  return (env, tenant, event) => ingestGrouped(call, lanes, env, tenant, event);
}

async function ingestGrouped(call: IngestCall, lanes: Map<string, Lane>, env: Cloudflare.Env, tenant: string, event: IncomingEvent): Promise<IngestResult> {
  const key = actorName(tenant, event.entity);
  let lane = lanes.get(key);
  if (!lane) {
    lane = { busy: false, waiting: [] };
    lanes.set(key, lane);
  }
  if (lane.busy) {
    // Wait for the call in flight to return; then either another caller has sent this event along
    // with its own, or this caller leads the next call.
    const turn = await new Promise<Turn>((settle) => lane!.waiting.push({ event, settle }));
    if ("result" in turn) return turn.result;
    if ("error" in turn) throw turn.error;
  }
  return lead(call, lanes, env, tenant, key, lane, event);
}

async function lead(call: IngestCall, lanes: Map<string, Lane>, env: Cloudflare.Env, tenant: string, key: string, lane: Lane, event: IncomingEvent): Promise<IngestResult> {
  lane.busy = true;
  const group = lane.waiting.splice(0, MAX_GROUP - 1);
  try {
    const results = await call(env, tenant, [event, ...group.map((w) => w.event)]);
    group.forEach((w, i) => w.settle({ result: results[i + 1]! }));
    return results[0]!;
  } catch (error) {
    for (const w of group) w.settle({ error });
    throw error;
  } finally {
    // The next waiter leads the following call itself (the lane stays busy, so no newcomer starts
    // a call of its own meanwhile); with none, the lane is idle.
    const next = lane.waiting.shift();
    if (next) next.settle({ lead: true });
    else {
      lane.busy = false;
      lanes.delete(key);
    }
  }
}

/** The router's group commit: one typed RPC to the entity's actor per group. */
export const ingestToActor = groupCommit((env, tenant, events) => entityActor(env, tenant, events[0]!.entity).ingest(tenant, events));
