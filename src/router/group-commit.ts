// Group commit at the router: concurrent events for one entity arriving at this isolate share one
// RPC and one transaction. The first is sent at once; events that arrive while an RPC to that
// entity is in flight gather, and go together as soon as it returns. No timer delays anything.
//
// Each request sends from its own context: when an RPC returns, the first request of the gathered
// group is woken to send the group's events, and it hands every other member its own results.
// A request never waits on I/O that belongs to another request beyond a bound: if its group is
// not answered in time (its sender was cancelled), it sends its own events itself, which the
// actor's dedupe makes safe (if the group did store them, that request is answered `duplicate`).
import { entityActor } from "../rpc/actors.ts";
import { actorName } from "../rpc/names.ts";
import { offloadPayloads, releaseRefused } from "../payloads.ts";
import type { EntityRef, IncomingEvent, IngestResult, TenantScope } from "../types.ts";

/** How long a gathered request waits for its group before it sends its own events. */
const GROUP_WAIT_MS = 5_000;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

/** One RPC in flight to an entity from this isolate, and the requests gathered behind it. */
interface Lane {
  gathered: Member[];
}

interface Member {
  events: IncomingEvent[];
  /** Resolved with the group this member must send (it is the group's first), and that send's lane. */
  turn: Deferred<{ group: Member[]; lane: Lane }>;
  /** Resolved with this member's results by whoever sent its group; rejected if that send failed. */
  results: Deferred<IngestResult[]>;
  /** Taken into a group: its events are on their way. */
  taken: boolean;
  /** The RPC whose return this member waits for: the one it gathered behind, then its group's. */
  waitingOn: Lane;
}

/** Sends one entity's events in one RPC; the actor's `ingest` unless a test injects another. */
type IngestSender = (events: IncomingEvent[]) => Promise<IngestResult[]>;

/** Per entity with an RPC in flight from this isolate. */
const lanes = new Map<string, Lane>();

/** Stores one entity's events through its actor, sharing the RPC with concurrent requests for it. */
export async function ingestGrouped(
  env: Cloudflare.Env,
  scope: TenantScope,
  entity: EntityRef,
  events: IncomingEvent[],
  options: { send?: IngestSender; waitMs?: number } = {},
): Promise<IngestResult[]> {
  const rpc: IngestSender = options.send ?? ((batch) => entityActor(env, scope.space, entity).ingest(scope.tenant, batch));
  // Large data goes to R2 first, so the actor keeps a reference; what it refuses is deleted again (src/payloads.ts).
  const offloaded = await offloadPayloads(env, scope.space, events);
  const results = await grouped(actorName(scope.space, entity), rpc, offloaded, options.waitMs ?? GROUP_WAIT_MS);
  await releaseRefused(env, offloaded, results);
  return results;
}

/** Sends one request's events through the entity's lane (see the top of this file). */
async function grouped(key: string, rpc: IngestSender, events: IncomingEvent[], waitMs: number): Promise<IngestResult[]> {
  const current = lanes.get(key);
  if (!current) {
    const lane: Lane = { gathered: [] };
    lanes.set(key, lane);
    const self = member(events, lane);
    return send(rpc, key, lane, [self], self);
  }
  const self = member(events, current);
  current.gathered.push(self);
  // Rejections are read in the race below; these keep an unread one from being reported.
  self.results.promise.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = await Promise.race([
    self.results.promise.then((results) => ({ kind: "results" as const, results }), () => ({ kind: "failed" as const })),
    self.turn.promise.then(({ group, lane }) => ({ kind: "turn" as const, group, lane })),
    new Promise<{ kind: "late" }>((done) => (timer = setTimeout(() => done({ kind: "late" }), waitMs))),
  ]);
  clearTimeout(timer);
  if (waited.kind === "results") return waited.results;
  if (waited.kind === "turn") return send(rpc, key, waited.lane, waited.group, self);
  if (waited.kind === "late") {
    if (!self.taken) current.gathered.splice(current.gathered.indexOf(self), 1);
    // The RPC this request waited for never came back (its sender was cancelled mid-call): the
    // lane is reset, so later requests for the entity start their own instead of queueing
    // behind a call that will never wake them. Its other waiters send their own in turn.
    if (lanes.get(key) === self.waitingOn) lanes.delete(key);
  }
  // The group's send failed, or never came back in time: this request sends its own events.
  return rpc(events);
}

function member(events: IncomingEvent[], waitingOn: Lane): Member {
  return { events, turn: deferred(), results: deferred(), taken: false, waitingOn };
}

/** Sends a group's events in one RPC from `self`'s request, answers the others, and wakes the next group. */
async function send(rpc: IngestSender, key: string, lane: Lane, group: Member[], self: Member): Promise<IngestResult[]> {
  let results: IngestResult[];
  try {
    results = await rpc(group.flatMap((m) => m.events));
  } catch (err) {
    // Every member of a failed group retries alone, so one request's failure never becomes another's.
    for (const m of group) if (m !== self) m.results.reject(err);
    wakeNext(key, lane);
    if (group.length === 1) throw err;
    return rpc(self.events);
  }
  let own: IngestResult[] = [];
  let at = 0;
  for (const m of group) {
    const slice = results.slice(at, at + m.events.length);
    at += m.events.length;
    if (m === self) own = slice;
    else m.results.resolve(slice);
  }
  wakeNext(key, lane);
  return own;
}

/**
 * An RPC returned: the requests gathered behind it go next, sent by the first of them; or the lane
 * closes. A lane reset meanwhile (see above) is no longer this entity's: nothing is woken from it.
 */
function wakeNext(key: string, lane: Lane): void {
  if (lanes.get(key) !== lane) return;
  const gathered = lane.gathered;
  if (gathered.length === 0) {
    lanes.delete(key);
    return;
  }
  const next: Lane = { gathered: [] };
  lanes.set(key, next);
  for (const m of gathered) {
    m.taken = true;
    m.waitingOn = next;
  }
  gathered[0]!.turn.resolve({ group: gathered, lane: next });
}
