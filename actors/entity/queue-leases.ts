// Queued handlers' work: leased under one token per alarm turn and sent in ONE queue message; the
// consumer claims it (exclusively: a copy of the message finds nothing left) and reports outcomes,
// which are settled like inline ones. The actor stays the source of truth: a lease that lapses
// with no report is sent again, and after MAX_UNREPORTED_SENDS counts as a failed try.
import { RpcTarget } from "cloudflare:workers";
import type { DeploymentSettings } from "../../src/config.ts";
import type { ClaimedWork, QueuedOutcome } from "../../src/delivery/policy/outcome.ts";
import type { Handler } from "../../src/handlers/handler.ts";
import { handler as findHandler } from "../../src/handlers/registry.ts";
import { countQueue } from "../../src/metrics/record.ts";
import { MovingEstimates } from "../../src/delivery/moving-estimate.ts";
import type { SlowWorkMessage } from "../../src/delivery/consumer.ts";
import { addUsage, queueUnits } from "../../src/usage.ts";
import type { HandlerConfiguration } from "./configuration.ts";
import type { Settler } from "./settle.ts";
import type { EntityStore } from "./store.ts";
import { LONG_RUN, unreadableRun, type Work, type WorkSource } from "./work.ts";

/**
 * Sends of a queued delivery whose lease lapsed with no report (a consumer killed by a CPU limit,
 * an OOM, a failed RPC) before that counts against the retry budget as a failed try, so a delivery
 * that never reports still ends as a dead letter.
 */
export const MAX_UNREPORTED_SENDS = 3;
/** Extra lease beyond the attempt timeout, so a slow-but-finishing attempt is not run twice. */
const LEASE_MARGIN_MS = 5_000;
/** Most events one queued handler that calls once per event takes in one message. */
const QUEUED_RUN = 5;

/**
 * How long an alarm turn may stay open for its queued work's report. A turn that closes before
 * the report re-arms the alarm for the lease's end (a billed row) and the report then deletes it
 * (another): $2 per million at $1 a row. An open actor costs $12.50 per million GB-s at 128 MB, so
 * 1,280 ms of waiting costs the same. Waiting longer than that never pays.
 */
export const REPORT_WAIT_PAYS_MS = 1_280;
/** How long each tenant space's reports have taken lately, from the send to the report. */
const reportTimes = new MovingEstimates();

/** Whether waiting for a report of this space's queued work has paid lately (none seen yet: it may). */
export function reportWaitPays(space: string): boolean {
  return reportTimes.under(space, REPORT_WAIT_PAYS_MS);
}

/**
 * Returned with a claim, so the consumer's report rides on the claim's RPC session: Cloudflare
 * bills one request per session, not per call on a stub it returned. The actor stays active while
 * the consumer holds it, so the consumer lets go after a short while (src/delivery/consumer.ts).
 */
export class ReportSession extends RpcTarget {
  readonly #report: (outcomes: QueuedOutcome[]) => Promise<void>;

  constructor(report: (outcomes: QueuedOutcome[]) => Promise<void>) {
    super();
    this.#report = report;
  }

  report(outcomes: QueuedOutcome[]): Promise<void> {
    return this.#report(outcomes);
  }

  /** workerd calls this when the consumer lets go. Nothing to free: the lease lives in the entity's state and lapses on its own. */
  [Symbol.dispose](): void {}
}

export class QueueLeases {
  /** Queue tokens this instance issued (the only ones it grants claims on), with when each was sent. */
  private readonly issued = new Map<string, number>();

  constructor(
    private readonly store: EntityStore,
    private readonly work: WorkSource,
    private readonly settler: Settler,
    private readonly configuration: HandlerConfiguration,
    private readonly env: () => Cloudflare.Env,
    /** The entity's tenant space (its actor's name), which the queue consumer addresses it by. */
    private readonly space: () => string,
    private readonly settings: DeploymentSettings,
  ) {}

  /**
   * Leases every queued handler's due work under one token and sends one message for all of it.
   * The lease is held in memory until the next row write: if the actor dies first, the message's
   * claim finds no such lease and runs nothing, and the restarted actor sends the work again.
   */
  async send(handlers: readonly Handler[]): Promise<string | null> {
    const head = this.store.existingHead;
    const now = Date.now();
    const token = `${now.toString(36)}.${crypto.randomUUID().slice(0, 8)}`;
    const sent: string[] = [];
    for (const handler of handlers) {
      const progress = head.progress[handler.name]!;
      let lapses = 0;
      if (progress.lease) {
        if (progress.lease.until > now) continue;
        const lease = progress.lease;
        delete progress.lease;
        this.store.touch();
        lapses = lease.lapses + 1;
        if (lapses >= MAX_UNREPORTED_SENDS) {
          // The consumer keeps dying before it reports: count a failed try, so the delivery backs
          // off and ends dead like any failure instead of being re-sent forever.
          this.failTry(handler.name, `no outcome reported after ${lapses} queue sends (lease lapsed each time)`, now);
          continue;
        }
      }
      const reason = this.configuration.unconfigured(handler);
      const work = this.work.next(handler.name, now, reason !== null || handler.coalesce ? LONG_RUN : QUEUED_RUN);
      if (!work) continue;
      if (reason !== null) {
        this.settler.skip(work, reason);
        continue;
      }
      // Each lapse doubles the next lease (up to 64×): a re-send that only joins a slow queue's
      // backlog must not multiply it.
      progress.lease = {
        token,
        seqs: work.events.map((e) => Number(e.seq)),
        exception: work.tries !== undefined,
        until: now + this.settings.queueLeaseMs * 2 ** Math.min(6, lapses),
        claimed: false,
        lapses,
      };
      this.store.touch();
      sent.push(handler.name);
    }
    this.forgetTokens();
    if (sent.length === 0) return null;
    this.issued.set(token, now);
    const message: SlowWorkMessage = { v: 2, tenant: head.tenant, space: this.space(), entity: head.entity, token };
    try {
      await this.env().SLOW_WORK.send(message, { contentType: "json" });
      addUsage("queueWrites", queueUnits(JSON.stringify(message).length));
      countQueue(head.tenant, "sent");
      return token;
    } catch (err) {
      for (const name of sent) {
        const progress = head.progress[name]!;
        if (progress.lease?.token !== token) continue;
        delete progress.lease;
        this.failTry(name, `queue send failed: ${String(err)}`, Date.now());
      }
      return null;
    }
  }

  /** Records a failed try of a handler's due head that never reached a call (a send failed, or never reported). */
  private failTry(name: string, error: string, now: number): void {
    const work = this.work.next(name, now, 1);
    if (work) this.settler.settle(work, [{ seq: Number(work.events[0]!.seq), report: { outcome: { kind: "retry", error }, startedAt: now, durationMs: 0 } }]);
  }

  /**
   * The queue consumer claims the work sent under `token`: each handler's lease is restarted for
   * one run and marked claimed, so a copy of the message finds nothing left to claim and never
   * runs a call twice. Only the instance that issued a token grants claims on it, so the claim
   * needs no write: an actor that restarts forgets its tokens, refuses their messages, and sends
   * the work again under a new one when the lease lapses. Null when nothing under this token is open.
   */
  async claim(token: string, now: number): Promise<ClaimedWork[] | null> {
    const head = this.store.head;
    if (!head || !this.issued.has(token)) return null;
    // Marked claimed before the first await, so a copy of the message arriving meanwhile gets nothing.
    const claimed: Work[] = [];
    for (const [name, progress] of Object.entries(head.progress)) {
      const lease = progress.lease;
      if (!lease || lease.token !== token || lease.claimed) continue;
      const handler = findHandler(name);
      const work = this.work.leased(name, lease);
      if (!handler || work.events.length === 0) continue;
      const calls = handler.coalesce ? 1 : work.events.length;
      lease.claimed = true;
      lease.until = now + calls * this.settings.handlerTimeoutMs + LEASE_MARGIN_MS;
      claimed.push(work);
    }
    if (claimed.length === 0) return null;
    this.store.touch();
    const ready: ClaimedWork[] = [];
    const unreadable: Array<{ work: Work; err: unknown }> = [];
    for (const work of claimed) {
      try {
        ready.push({ handler: work.handler, jobs: await this.work.jobs(work) });
      } catch (err) {
        unreadable.push({ work, err });
      }
    }
    // Work whose data cannot be read back fails its try here, and is never handed out.
    if (unreadable.length > 0) {
      this.store.update(() => {
        for (const { work, err } of unreadable) {
          delete head.progress[work.handler]!.lease;
          this.settler.settle(work, unreadableRun(work, err, Date.now()));
        }
      });
    }
    return ready.length > 0 ? ready : null;
  }

  /** The consumer's outcomes for the work sent under `token`. Anything not under a live lease is stale and ignored. */
  report(token: string, outcomes: readonly QueuedOutcome[]): void {
    const head = this.store.head;
    if (!head) return;
    const live = outcomes.filter((o) => head.progress[o.handler]?.lease?.token === token);
    if (live.length === 0) return;
    const sentAt = this.issued.get(token);
    if (sentAt !== undefined) reportTimes.record(this.space(), Date.now() - sentAt);
    this.store.update(() => {
      for (const outcome of live) {
        const progress = head.progress[outcome.handler]!;
        const work = this.work.leased(outcome.handler, progress.lease!);
        delete progress.lease;
        if (outcome.held) this.settler.hold(work, outcome.held);
        else this.settler.settle(work, outcome.results);
      }
    });
    this.forgetTokens();
  }

  /** Whether work sent under `token` is still out: a lease under it has neither reported nor lapsed. */
  awaitingReport(token: string, now: number): boolean {
    return Object.values(this.store.existingHead.progress).some((p) => p.lease?.token === token && p.lease.until > now);
  }

  /**
   * A waited-for report did not come in time. Its time is unknown (a report that comes later is
   * recorded then; a lost one never is), so it counts as twice the break-even: two in a row and this
   * space's turns close without waiting until reports are quick again.
   */
  reportLate(): void {
    reportTimes.record(this.space(), 2 * REPORT_WAIT_PAYS_MS);
  }

  /** Drops issued tokens no lease holds any more (reported, or re-sent under another). */
  private forgetTokens(): void {
    const held = new Set(Object.values(this.store.existingHead.progress).map((p) => p.lease?.token));
    for (const token of this.issued.keys()) if (!held.has(token)) this.issued.delete(token);
  }
}
