// Group commit at the router: concurrent events for one entity arriving at this isolate share one
// RPC and one transaction. The first is sent at once; events that arrive while an RPC to that
// entity is in flight gather, and go together as soon as it returns. No timer delays anything.
//
// Each request sends from its own context: when an RPC returns, the first request of the gathered
// group is woken to send the group's events, and it hands every other member its own results.
// A request never waits on I/O that belongs to another request beyond a bound: if its group is
// not answered in time (its sender was cancelled), it sends its own events itself, which the
// actor's dedupe makes safe (if the group did store them, that request is answered `duplicate`).
import { actorName, entityActor } from "./actors";
import type { EntityRef, IncomingEvent, IngestResult } from "./types";

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

interface Member {
  events: IncomingEvent[];
  /** Resolved with the group this member must send (it is the group's first). */
  turn: Deferred<Member[]>;
  /** Resolved with this member's results by whoever sent its group; rejected if that send failed. */
  results: Deferred<IngestResult[]>;
  /** Taken into a group: its events are on their way. */
  taken: boolean;
}

/** Per entity with an RPC in flight from this isolate: the requests gathered behind it. */
const lanes = new Map<string, Member[]>();

/** Stores one entity's events through its actor, sharing the RPC with concurrent requests for it. */
export async function ingestGrouped(env: Cloudflare.Env, tenant: string, entity: EntityRef, events: IncomingEvent[]): Promise<IngestResult[]> {
  const key = actorName(tenant, entity);
  const self = member(events);
  const gathering = lanes.get(key);
  if (!gathering) {
    lanes.set(key, []);
    return send(env, tenant, entity, key, [self], self);
  }
  gathering.push(self);
  // Rejections are read in the race below; these keep an unread one from being reported.
  self.results.promise.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = await Promise.race([
    self.results.promise.then((results) => ({ kind: "results" as const, results }), () => ({ kind: "failed" as const })),
    self.turn.promise.then((group) => ({ kind: "turn" as const, group })),
    new Promise<{ kind: "late" }>((done) => (timer = setTimeout(() => done({ kind: "late" }), GROUP_WAIT_MS))),
  ]);
  clearTimeout(timer);
  if (waited.kind === "results") return waited.results;
  if (waited.kind === "turn") return send(env, tenant, entity, key, waited.group, self);
  if (waited.kind === "late" && !self.taken) gathering.splice(gathering.indexOf(self), 1);
  // The group's send failed, or never came back in time: this request sends its own events.
  return entityActor(env, tenant, entity).ingest(tenant, events);
}

function member(events: IncomingEvent[]): Member {
  return { events, turn: deferred(), results: deferred(), taken: false };
}

/** Sends a group's events in one RPC from `self`'s request, answers the others, and wakes the next group. */
async function send(env: Cloudflare.Env, tenant: string, entity: EntityRef, key: string, group: Member[], self: Member): Promise<IngestResult[]> {
  let results: IngestResult[];
  try {
    results = await entityActor(env, tenant, entity).ingest(tenant, group.flatMap((m) => m.events));
  } catch (err) {
    // Every member of a failed group retries alone, so one request's failure never becomes another's.
    for (const m of group) if (m !== self) m.results.reject(err);
    wakeNext(key);
    if (group.length === 1) throw err;
    return entityActor(env, tenant, entity).ingest(tenant, self.events);
  }
  let own: IngestResult[] = [];
  let at = 0;
  for (const m of group) {
    const slice = results.slice(at, at + m.events.length);
    at += m.events.length;
    if (m === self) own = slice;
    else m.results.resolve(slice);
  }
  wakeNext(key);
  return own;
}

/** The RPC returned: the requests gathered meanwhile go next, sent by the first of them; or the lane closes. */
function wakeNext(key: string): void {
  const gathered = lanes.get(key);
  if (!gathered || gathered.length === 0) {
    lanes.delete(key);
    return;
  }
  lanes.set(key, []);
  for (const m of gathered) m.taken = true;
  gathered[0]!.turn.resolve(gathered);
}
