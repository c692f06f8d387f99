import { logLine } from "../log.ts";
import { entityActor, type EntityActorRpc } from "../rpc/actors.ts";
import { tenantConfiguration } from "../control/runtime.ts";
import { executeWork } from "./execute.ts";
import { admit, callOutcome, gateTarget } from "./gate.ts";
import type { ClaimedWork, DeliveryResult, QueueClaim, QueuedOutcome } from "./policy/outcome.ts";
import { holdFor, holdSession, recordRun, type HeldSession } from "./report-session.ts";
import { countQueue, flushAllMetrics } from "../metrics/record.ts";
import { addUsage, queueUnits } from "../usage.ts";
import { recordSpaceRun, SLOW_LANE_QUEUE, toSlowLane, type Lane } from "./slow-lane.ts";
import type { EntityRef } from "../types.ts";

/**
 * One alarm turn's queued work for one entity travels by reference: which actor, and the token
 * its leases were issued under. It is always a few hundred bytes, whatever the events' sizes, so
 * the 128 KB limit never applies; the consumer claims the events and state from the actor.
 */
export interface SlowWorkMessage {
  v: 2;
  tenant: string;
  /** The entity actor's tenant space (`tenantSpace`); absent in messages sent before 0.5, whose space is the tenant's name. */
  space?: string;
  entity: EntityRef;
  token: string;
}

function isSlowWorkMessage(body: unknown): body is SlowWorkMessage {
  if (typeof body !== "object" || body === null) return false;
  // Shape check only; the actor checks the token against its leases.
  const m = body as Partial<SlowWorkMessage>;
  return m.v === 2 && typeof m.tenant === "string" && (m.space === undefined || typeof m.space === "string") && typeof m.token === "string" && typeof m.entity?.id === "string" && typeof m.entity.type === "string";
}

/** Tries to report outcomes a few times: the calls already ran, so only the report is repeated. */
const REPORT_TRIES = 3;

async function reportWithRetries(actor: EntityActorRpc, token: string, outcomes: QueuedOutcome[], tries: number): Promise<void> {
  for (let tryNo = 1; ; tryNo++) {
    try {
      await actor.reportWork(token, outcomes);
      return;
    } catch (err) {
      if (tryNo >= tries) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * tryNo));
    }
  }
}

/**
 * Reports claimed work's outcomes: on the claim's session if it is still held (one billed request
 * in all), else, or if that fails, as requests of their own.
 */
async function report(actor: EntityActorRpc, token: string, outcomes: QueuedOutcome[], session: HeldSession): Promise<void> {
  let tries = REPORT_TRIES;
  const stub = session.take();
  if (stub) {
    try {
      await stub.report(outcomes);
      return;
    } catch {
      // The session broke (the actor restarted) or the report failed: the next tries are requests.
      tries -= 1;
    } finally {
      session.release();
    }
  }
  await reportWithRetries(actor, token, outcomes, tries);
}

/**
 * How long a queued call may wait at its destination's gate (a rate or concurrency limit) before
 * it is reported held: well inside the lease's margin, so the entity never re-sends a call that
 * is still to run.
 */
const GATE_WAIT_MS = 2_000;

/** Runs each claimed handler's events (in parallel across handlers, in seq order within one), each past its destination's gate. */
async function run(claimed: ClaimedWork[], env: Cloudflare.Env, tenant: string, space: string): Promise<QueuedOutcome[]> {
  const config = await tenantConfiguration(env, tenant);
  return Promise.all(
    claimed.map(async ({ handler, jobs }): Promise<QueuedOutcome> => {
      const target = gateTarget(handler, config);
      const admission = target ? await admit(env, space, target, Date.now() + GATE_WAIT_MS) : null;
      if (admission && !admission.ok) return { handler, results: [], held: { until: admission.until, reason: admission.reason, down: admission.down } };
      let results: DeliveryResult[] = [];
      try {
        // Its slot went by (it waited to be spaced from the isolate's last call): held briefly.
        if (admission && !(await admission.start())) return { handler, results: [], held: { until: Date.now() + 200, reason: "rate limit" } };
        results = await executeWork(jobs, env, config);
        return { handler, results };
      } finally {
        if (admission) admission.done(callOutcome(results));
      }
    }),
  );
}

/**
 * Queue consumer for slow handlers. Each message is handled on its own: claim the work from its
 * actor, run it, report the outcomes back. The claim is exclusive, so a message is retried only
 * when the claim itself could not be made; once the calls have run, the message is acked whether
 * or not the report got through (a re-delivered message would find nothing left to claim). An
 * unreported run's lease lapses and the actor decides: it re-sends, and after
 * `MAX_UNREPORTED_SENDS` lapses it counts a failed try, so such a delivery still ends dead.
 */
export async function consumeSlowWork(batch: MessageBatch<unknown>, env: Cloudflare.Env): Promise<void> {
  const lane: Lane = batch.queue === SLOW_LANE_QUEUE ? "slow" : "fast";
  await Promise.all(
    batch.messages.map((message) => {
      const units = queueUnits(JSON.stringify(message.body ?? null).length);
      addUsage("queueReads", units);
      const ack = () => {
        message.ack();
        addUsage("queueDeletes", units);
      };
      return consumeOne(message, env, ack, lane);
    }),
  );
  await flushAllMetrics(env);
}

/** Claims, runs and reports one message's work (see consumeSlowWork); acks it unless the claim failed. */
async function consumeOne(message: Message<unknown>, env: Cloudflare.Env, ack: () => void, lane: Lane): Promise<void> {
  if (!isSlowWorkMessage(message.body)) {
    // Includes messages sent by the pre-v2 engine: their actors send the work again under v2.
    logLine(env, "warn", "unrecognised queue message dropped", { id: message.id });
    ack();
    return;
  }
  const { tenant, entity, token } = message.body;
  const space = message.body.space ?? tenant;
  // A tenant whose queued calls lately took long goes through the slow lane, so it does not hold
  // the batches that every other tenant's calls wait behind (src/delivery/slow-lane.ts).
  if (lane === "fast" && (await toSlowLane(env, space, message.body))) {
    ack();
    return;
  }
  const actor = entityActor(env, space, entity);
  const ackCounted = () => {
    ack();
    countQueue(tenant, "acked");
  };
  let claim: QueueClaim | null;
  try {
    const answer: QueueClaim | ClaimedWork[] | null = await actor.claimWork(token);
    // An actor still on the code before report sessions (a deploy under way) answers with the work alone.
    claim = Array.isArray(answer) ? { work: answer, session: null } : answer;
  } catch (err) {
    logLine(env, "warn", "queued work not claimed; retrying message", { tenant, entity, error: String(err) });
    message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
    return;
  }
  if (claim) {
    const kind = `${space}|${claim.work.map((w) => w.handler).sort().join(",")}`;
    const session = holdSession(claim.session, holdFor(kind));
    const started = Date.now();
    let outcomes: QueuedOutcome[];
    try {
      outcomes = await run(claim.work, env, tenant, space);
      recordRun(kind, Date.now() - started);
      recordSpaceRun(space, Date.now() - started);
    } catch (err) {
      session.release();
      // The tenant's configuration could not be read: nothing ran; the lease lapses and the actor re-sends.
      logLine(env, "warn", "queued work not run: tenant configuration unavailable", { tenant, entity, error: String(err) });
      ackCounted();
      return;
    }
    try {
      await report(actor, token, outcomes, session);
    } catch (err) {
      logLine(env, "warn", "queued outcome not reported; the lease will lapse", { tenant, entity, token, error: String(err) });
    }
  }
  ackCounted();
}
