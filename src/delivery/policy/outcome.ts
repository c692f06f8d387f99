// What an attempt came to: plain data shared by the runner, the queue consumer and the actors.
// It depends on types only, never on the handler registry, so the actors' RPC types can use it
// without an import circle through the handlers.
import type { DeliveryJob, HandlerResult } from "./job.ts";

/** What one attempt came to, as the actor records it. */
export type AttemptOutcome =
  | { kind: "succeeded"; statusCode?: number }
  | { kind: "skipped"; reason: string }
  | { kind: "retry"; error: string; statusCode?: number; retryAfterMs?: number }
  | { kind: "dead"; error: string; statusCode?: number };

/** What one attempt produced; reported to the entity's actor, which decides what happens next. */
export interface AttemptReport {
  outcome: AttemptOutcome;
  result?: HandlerResult;
  /** Batches only: how many leading deliveries took effect before the batch failed. */
  delivered?: number;
  startedAt: number;
  durationMs: number;
}

/** What one delivery of a call came to: a batch or a coalesced call reports one per event. */
export interface DeliveryResult {
  seq: number;
  report: AttemptReport;
}

/** A queued handler's work, as the consumer claims it from the entity's actor. */
export interface ClaimedWork {
  handler: string;
  jobs: DeliveryJob[];
}

/**
 * The consumer's handle on its claim. A report made through it rides on the claim's RPC session,
 * which Cloudflare bills as the one request already made; disposing it ends the session, after
 * which a report is a request of its own (`reportWork`).
 */
export interface ReportSessionRpc {
  report(outcomes: QueuedOutcome[]): Promise<void>;
  [Symbol.dispose](): void;
}

/** What a claim hands the consumer: each handler's work, and the session to report it through. */
export interface QueueClaim {
  work: ClaimedWork[];
  /** Null only from an actor on the code before report sessions. */
  session: ReportSessionRpc | null;
}

/** What the consumer reports for one claimed handler: results in seq order, up to the first failure. */
export interface QueuedOutcome {
  handler: string;
  results: DeliveryResult[];
  /** The gate held the call (a rate or concurrency limit, an open circuit): nothing ran, no attempt counts. */
  held?: Hold;
}

/** A call the gate (src/delivery/gate.ts) held back: when to try again, and why. */
export interface Hold {
  until: number;
  reason: string;
  /** Held because the destination is down: its circuit stayed open through failed probes (src/delivery/gate.ts). */
  down?: boolean;
}
