// The gate every call to a destination or an endpoint passes first, from an entity's alarm or from
// the queue consumer. It holds calls (they wait; they are not attempts) for three reasons:
//
// - the circuit of the destination is open: it kept failing (5xx, timeouts, network errors), so
//   calls pause for a cool-down, then one probe goes first (half-open) and its outcome decides;
// - the destination's rate limit: a call needs a slot from the destination's limiter object;
// - its concurrency limit: a call needs one of the permits this isolate holds from the limiter.
//
// State lives per isolate, in plain data shared by every actor the isolate hosts (a promise must
// not be awaited across actors' requests, so waiters poll). Slots and permits come from the
// limiter object in batches (actors/limiter-actor.ts), so the common case costs no request per
// call; a destination with no limit never asks it anything.
import { deploymentSettings } from "../config.ts";
import type { TenantConfiguration } from "../control/runtime.ts";
import { controlsOf, pacedRate, type DeliveryControls } from "./policy/controls.ts";
import type { AttemptOutcome, DeliveryResult } from "./policy/outcome.ts";
import { endpointIdOf } from "../rpc/names.ts";
import { limiterActor } from "../rpc/actors.ts";
import { handler as findHandler } from "../handlers/registry.ts";

/** Consecutive failures (5xx, timeouts, network errors) that open a destination's circuit… */
export const CIRCUIT_FAILURES = 5;
/**
 * …provided at least this share of its last CIRCUIT_WINDOW outcomes failed. A destination that
 * drops one call in five, called a hundred times a second, fails five in a row about every 40 s
 * by chance: it is flaky, not down, and its retries (not its circuit) deal with it.
 */
export const CIRCUIT_FAILURE_SHARE = 0.5;
export const CIRCUIT_WINDOW = 20;
/**
 * Failed probes in a row after which an open circuit says the destination is down, not flaky:
 * only then may its holds cost a due retry an attempt (actors/entity/settle.ts). A flaky
 * destination's circuit can still open by chance, or a local overload can time calls out; its
 * first probe then succeeds four times in five, and its holds must not burn the retry budgets of
 * every delivery waiting on it (a 10,000-event chaos run ended three deliveries dead that way).
 */
export const DOWN_AFTER_PROBES = 2;
/** The first cool-down; each failed probe doubles it, up to CIRCUIT_MAX_COOLDOWN_MS. */
export const CIRCUIT_COOLDOWN_MS = 5_000;
export const CIRCUIT_MAX_COOLDOWN_MS = 20_000;
/**
 * How widely held calls spread their return after a cool-down: enough that a thousand entities do
 * not arrive in the same millisecond, short enough that they drain soon after the probe succeeds.
 */
const RETURN_SPREAD_MS = 2_000;
/** Slots asked for at once: two seconds' worth, at least 10, so a steady stream asks once per ten calls or fewer. */
const MIN_SLOT_BATCH = 10;
const MAX_SLOT_BATCH = 500;
/** How long an outcome vouches for a destination: past this, one call goes first again. */
const FRESH_OUTCOME_MS = 30_000;
/** How long a waiting call polls before it is held for a later turn. */
const POLL_MS = [20, 250] as const;
/** Destinations tracked per isolate; the least recently used goes first past this. */
const MAX_LANES = 10_000;

/** What a call is gated by: the limiter key (`destination:{kind}` or `endpoint:{id}`) and its limits. */
export interface GateTarget {
  key: string;
  controls: DeliveryControls;
}

/**
 * The gate's answer: go (and report how the call ended), or hold until a time. A call admitted by
 * a rate slot starts only once `start()` says so (false: its slot went by; ask again), right
 * before the call: a slot used late would bunch calls at the receiver.
 */
/**
 * An admitted call (`waited`: whether admission waited on a timer or a limiter, during which the
 * caller's state may have changed), or a held one.
 */
export type Admission = { ok: true; waited: boolean; start(): Promise<boolean>; done(outcome: AttemptOutcome | null): void } | Refusal;

/** A held call: when to come back, why, and whether it is held because the destination is down (DOWN_AFTER_PROBES). */
export interface Refusal {
  ok: false;
  until: number;
  reason: string;
  down: boolean;
}

interface Lane {
  failures: number;
  /** The last CIRCUIT_WINDOW outcomes, oldest first: true for a destination failure. */
  recent: boolean[];
  /** While open: when the next probe may go; 0 while closed. */
  openUntil: number;
  cooldown: number;
  /** Probes that failed since the circuit last opened from closed. */
  failedProbes: number;
  /** When the probe now out started; 0 when none is. */
  probeSince: number;
  /** When this isolate last started a rate-limited call to it. */
  lastStart: number;
  /** When the last call to it ended (0: none from this isolate yet). */
  lastOutcomeAt: number;
  /**
   * Calls admitted and not yet done, by ticket, with when each started. An actor that dies mid-call
   * never reports back, so a ticket older than a call can last no longer counts (see live()).
   */
  calls: Map<number, number>;
  /** Calls waiting in admit now: how many permits this isolate could use. */
  waiting: number;
  slots: number[];
  /** Set while one actor asks the limiter for this lane; a stale one (the actor went away) is ignored. */
  askingSince: number;
  /** No slot until then (the limiter's horizon was full). */
  slotsRetryAt: number;
  permits: number;
  permitsUntil: number;
}

const lanes = new Map<string, Lane>();
let isolateId: string | null = null;

let nextTicket = 1;

/** How long a call can last (its attempt's timeout, and a margin): an older ticket is a call whose actor died. */
function staleAfter(env: Cloudflare.Env): number {
  return deploymentSettings(env).handlerTimeoutMs + 5_000;
}

/** Calls in flight now, forgetting those too old to be alive. */
function inFlight(lane: Lane, now: number, stale: number): number {
  for (const [ticket, started] of lane.calls) if (started < now - stale) lane.calls.delete(ticket);
  return lane.calls.size;
}

function laneOf(space: string, key: string): Lane {
  const id = `${space}|${key}`;
  let lane = lanes.get(id);
  if (lane) {
    lanes.delete(id);
  } else {
    lane = { failures: 0, recent: [], openUntil: 0, cooldown: CIRCUIT_COOLDOWN_MS, failedProbes: 0, probeSince: 0, lastStart: 0, lastOutcomeAt: 0, calls: new Map(), waiting: 0, slots: [], askingSince: 0, slotsRetryAt: 0, permits: 0, permitsUntil: 0 };
    if (lanes.size >= MAX_LANES) lanes.delete(lanes.keys().next().value!);
  }
  lanes.set(id, lane);
  return lane;
}

/** The gate a handler's calls pass, or null for one that calls no destination (database, analytics, follow-up). */
export function gateTarget(name: string, configuration: TenantConfiguration): GateTarget | null {
  const id = endpointIdOf(name);
  if (id !== null) {
    const endpoint = configuration.endpoints.get(id);
    return { key: name, controls: endpoint ? controlsOf(endpoint) : controlsOf(undefined) };
  }
  const kind = findHandler(name)?.destination?.kind;
  if (!kind) return null;
  return { key: `destination:${kind}`, controls: controlsOf(configuration.destinations[kind] as { rateLimit?: unknown; maxConcurrency?: unknown } | undefined) };
}

/** Whether an outcome says the destination itself is failing (not the request): what the circuit counts. */
export function isDestinationFailure(outcome: AttemptOutcome): boolean {
  if (outcome.kind !== "retry") return false;
  // 429 is the receiver pacing us (its Retry-After applies), and 408/409/425 are about the request.
  return outcome.statusCode === undefined || outcome.statusCode >= 500;
}

const jitter = (ms: number, random: () => number) => Math.ceil(ms * random());

/**
 * Waits (until `deadline` at most) for the circuit, a rate slot and a concurrency permit. Held
 * calls answer when to try again; an admitted call must report how it ended with `done`.
 */
export async function admit(env: Cloudflare.Env, space: string, target: GateTarget, deadline: number, random: () => number = Math.random): Promise<Admission> {
  const lane = laneOf(space, target.key);
  const { rateLimit, maxConcurrency } = target.controls;
  let wait: number = POLL_MS[0];
  let waited = false;
  lane.waiting++;
  try {
    for (;;) {
      const now = Date.now();
      const closed = circuit(lane, now, random, staleAfter(env));
      if (closed !== true) return closed;
      // While the destination is failing, or not heard from lately, one call at a time: a burst
      // across many entities finds out from the first whether it is there.
      const known = lane.failures === 0 && lane.lastOutcomeAt > now - FRESH_OUTCOME_MS;
      const stale = staleAfter(env);
      let ready = known || inFlight(lane, now, stale) === 0;
      if (ready && maxConcurrency !== null) {
        waited = true;
        ready = await hasPermit(env, space, target, lane, now, stale);
      }
      let slotEnds = Number.POSITIVE_INFINITY;
      if (ready && rateLimit !== null) {
        waited = true;
        const slot = await takeSlot(env, space, target, lane, Date.now(), deadline);
        if (slot === "later") ready = false;
        else if (typeof slot === "object") return { ok: false, until: slot.until, reason: "rate limit", down: false };
        else slotEnds = slot + usableFor(pacedRate(rateLimit.perSecond));
        if (typeof slot === "number" && slot > Date.now()) {
          // In flight from here, so the permit it took is not taken twice while it waits.
          const waiting = nextTicket++;
          lane.calls.set(waiting, Date.now());
          await new Promise((resolve) => setTimeout(resolve, slot - Date.now()));
          lane.calls.delete(waiting);
        }
      }
      if (ready) {
        // Checked again: the circuit may have opened, or a probe gone out, while this call waited.
        const started = Date.now();
        const still = circuit(lane, started, random, stale);
        if (still !== true) return still;
        const probe = lane.openUntil > 0;
        if (probe) lane.probeSince = started;
        const ticket = nextTicket++;
        lane.calls.set(ticket, started);
        return {
          ok: true,
          waited,
          start: async () => {
            if (rateLimit === null) return true;
            // Starts in this isolate at least 0.9 of an interval apart, whatever the slots'
            // timers did under load: what reaches the receiver bunches less.
            const spacing = (0.9 * 1000) / pacedRate(rateLimit.perSecond);
            for (;;) {
              const at = Date.now();
              const wait = lane.lastStart + spacing - at;
              if (at >= slotEnds || at + Math.max(0, wait) >= slotEnds) return false;
              if (wait <= 0) {
                lane.lastStart = at;
                return true;
              }
              await new Promise((resolve) => setTimeout(resolve, wait));
            }
          },
          done: (outcome) => {
            if (!lane.calls.delete(ticket)) return;
            if (probe && lane.probeSince === started) lane.probeSince = 0;
            if (outcome) record(lane, outcome, Date.now());
          },
        };
      }
      if (Date.now() + wait > deadline) {
        const reason = lane.failures > 0 ? "circuit: waiting for the call that tests the failing destination" : rateLimit !== null ? "rate limit" : "concurrency limit";
        // Only a down destination's hold may cost a retry an attempt (entity/settle.ts). A call that
        // merely waited its turn behind one call to a destination that failed lately is paced,
        // not refused: at a steady 20% failure rate that is most of the time.
        return { ok: false, until: Date.now() + 1_000 + jitter(1_000, random), reason, down: isDown(lane) };
      }
      waited = true;
      await new Promise((resolve) => setTimeout(resolve, jitter(wait, random) + wait / 2));
      wait = Math.min(wait * 2, POLL_MS[1]);
    }
  } finally {
    lane.waiting--;
  }
}

/** True while calls may go (closed, or half-open with no probe out); else the hold. */
function circuit(lane: Lane, now: number, random: () => number, stale: number): true | Refusal {
  if (lane.openUntil > now) return { ok: false, until: lane.openUntil + jitter(RETURN_SPREAD_MS, random), reason: "circuit open", down: isDown(lane) };
  // The probe is one call; its outcome is known within a timeout at worst, usually at once. A
  // probe whose actor died never reports: past a call's longest life another goes.
  if (lane.openUntil > 0 && lane.probeSince > now - stale) return { ok: false, until: now + RETURN_SPREAD_MS / 4 + jitter(RETURN_SPREAD_MS, random), reason: "circuit half-open: a probe is out", down: isDown(lane) };
  return true;
}

/** Open through DOWN_AFTER_PROBES failed probes in a row: down, not flaky. */
function isDown(lane: Lane): boolean {
  return lane.openUntil > 0 && lane.failedProbes >= DOWN_AFTER_PROBES;
}

/** The circuit's bookkeeping after a call. */
function record(lane: Lane, outcome: AttemptOutcome, now: number): void {
  lane.lastOutcomeAt = now;
  const failed = isDestinationFailure(outcome);
  lane.recent.push(failed);
  if (lane.recent.length > CIRCUIT_WINDOW) lane.recent.shift();
  if (!failed) {
    // Any answer but a failure of the destination closes it: the receiver is there.
    lane.failures = 0;
    lane.openUntil = 0;
    lane.cooldown = CIRCUIT_COOLDOWN_MS;
    lane.failedProbes = 0;
    return;
  }
  lane.failures++;
  if (lane.openUntil > 0) {
    // A failed probe: open again, for longer.
    lane.failedProbes++;
    lane.cooldown = Math.min(lane.cooldown * 2, CIRCUIT_MAX_COOLDOWN_MS);
    lane.openUntil = now + lane.cooldown;
  } else if (lane.failures >= CIRCUIT_FAILURES && lane.recent.filter(Boolean).length >= CIRCUIT_FAILURE_SHARE * lane.recent.length) {
    lane.openUntil = now + lane.cooldown;
  }
}

/** A permit for one more call in flight: from those this isolate holds, renewed from the limiter when short or ending. */
async function hasPermit(env: Cloudflare.Env, space: string, target: GateTarget, lane: Lane, now: number, stale: number): Promise<boolean> {
  const max = target.controls.maxConcurrency!;
  const valid = lane.permitsUntil > now;
  if (valid && inFlight(lane, now, stale) < Math.min(lane.permits, max) && lane.permitsUntil - now > 2_000) return true;
  await ask(env, space, target, lane, 0, stale);
  return lane.permitsUntil > Date.now() && inFlight(lane, Date.now(), stale) < Math.min(lane.permits, max);
}

/**
 * How long after its time a slot may still start a call: half its interval, so that with the
 * time a call takes to reach the receiver, no second there holds more than `perSecond + 1`.
 */
function usableFor(perSecond: number): number {
  return 500 / perSecond;
}

/**
 * The next usable slot's time (taken), "later" when there is none yet, or when to come back if
 * the next is past `deadline`. Such a slot stays for whoever comes at its time: a caller that
 * cannot wait for it must not use it up. Callers sent away return spread over the slots the
 * isolate holds, not all at the first.
 */
async function takeSlot(env: Cloudflare.Env, space: string, target: GateTarget, lane: Lane, now: number, deadline: number): Promise<number | "later" | { until: number }> {
  const usable = usableFor(pacedRate(target.controls.rateLimit!.perSecond));
  // A slot not used in time is gone: using it late would bunch calls.
  while (lane.slots.length > 0 && lane.slots[0]! + usable <= now) lane.slots.shift();
  if (lane.slots.length === 0 && lane.slotsRetryAt <= now) {
    const batch = Math.max(MIN_SLOT_BATCH, Math.min(MAX_SLOT_BATCH, Math.ceil(target.controls.rateLimit!.perSecond * 2)));
    await ask(env, space, target, lane, batch, staleAfter(env));
  }
  const slot = lane.slots[0];
  // None to be had before the limiter's horizon frees one: held until then, not polled for.
  if (slot === undefined) return lane.slotsRetryAt > deadline ? { until: lane.slotsRetryAt + Math.floor(Math.random() * usable) } : "later";
  if (slot > deadline) {
    const last = lane.slots[lane.slots.length - 1]!;
    return { until: slot + Math.floor(Math.random() * (last - slot + usable)) };
  }
  lane.slots.shift();
  return slot;
}

/** One grant request for the lane, made by one actor at a time; the others poll for its result. */
async function ask(env: Cloudflare.Env, space: string, target: GateTarget, lane: Lane, slots: number, stale: number): Promise<void> {
  const now = Date.now();
  if (lane.askingSince > now - 5_000) return;
  lane.askingSince = now;
  isolateId ??= crypto.randomUUID();
  try {
    const { rateLimit, maxConcurrency } = target.controls;
    const wantPermits = maxConcurrency === null ? 0 : Math.min(maxConcurrency, inFlight(lane, now, stale) + lane.waiting);
    const grant = await limiterActor(env, space, target.key).grant(isolateId, { slots, perSecond: rateLimit ? pacedRate(rateLimit.perSecond) : null, permits: wantPermits, maxConcurrency });
    lane.slots.push(...grant.slots);
    lane.slots.sort((a, b) => a - b);
    if (grant.retryAt !== null) lane.slotsRetryAt = grant.retryAt;
    if (maxConcurrency !== null) {
      lane.permits = grant.permits;
      lane.permitsUntil = grant.permitsUntil;
    }
  } catch {
    // The limiter is out of reach: nothing is granted, and the call waits as for a slot.
  } finally {
    lane.askingSince = 0;
  }
}

/** The outcome of the call a run made: the last result's (a run stops at its first failure). */
export function callOutcome(results: readonly DeliveryResult[]): AttemptOutcome | null {
  return results.length === 0 ? null : results[results.length - 1]!.report.outcome;
}
