import { deploymentSettings, type DeploymentSettings } from "../config.ts";
import type { TenantConfiguration } from "../control/runtime.ts";
import type { DeliveryJob, HandlerResult } from "../handlers/handler.ts";
import { handler as findHandler } from "../handlers/registry.ts";
import { PartialBatchError } from "./policy/errors.ts";
import type { AttemptReport, DeliveryResult } from "./policy/outcome.ts";
import { outcomeOfError } from "./policy/retry.ts";


class AttemptTimeout extends Error {
  override name = "TimeoutError";
}

/**
 * Runs one attempt of a delivery with the per-attempt timeout. Used by the actor's alarm for
 * inline handlers and by the Queue consumer for queued ones, so both classify outcomes alike.
 * Never throws: every failure becomes an outcome.
 */
function executeDelivery(job: DeliveryJob, env: Cloudflare.Env, configuration: TenantConfiguration): Promise<AttemptReport> {
  const handler = findHandler(job.handler);
  if (!handler) return Promise.resolve({ outcome: { kind: "dead", error: `unknown handler ${job.handler}` }, startedAt: Date.now(), durationMs: 0 });
  return withTimeout(env, (settings, signal) => handler.run({ ...job, env, configuration, settings, signal }));
}

/** One attempt that delivers several of an entity's deliveries to a batching handler at once. */
function executeBatch(jobs: DeliveryJob[], env: Cloudflare.Env, configuration: TenantConfiguration): Promise<AttemptReport> {
  const handler = findHandler(jobs[0]!.handler);
  if (!handler?.runBatch) return Promise.resolve({ outcome: { kind: "dead", error: `handler ${jobs[0]!.handler} cannot batch` }, startedAt: Date.now(), durationMs: 0 });
  return withTimeout(env, (settings, signal) => handler.runBatch!(jobs.map((job) => ({ ...job, env, configuration, settings, signal }))));
}

/**
 * Delivers one handler's jobs (an entity's due events, in seq order) in as few calls as the handler
 * allows: one batch call, one coalesced call for the newest, or one call each, stopping at the first
 * that fails. Results come back per event, in order, up to and including the first failure.
 */
export async function executeWork(jobs: readonly DeliveryJob[], env: Cloudflare.Env, configuration: TenantConfiguration): Promise<DeliveryResult[]> {
  const handler = findHandler(jobs[0]!.handler);
  if (jobs.length > 1 && handler?.runBatch) return spread(jobs, await executeBatch([...jobs], env, configuration));
  if (jobs.length > 1 && handler?.coalesce) return spread(jobs, await executeDelivery(jobs[jobs.length - 1]!, env, configuration));
  const results: DeliveryResult[] = [];
  for (const job of jobs) {
    const report = await executeDelivery(job, env, configuration);
    results.push({ seq: job.event.seq, report });
    if (report.outcome.kind !== "succeeded" && report.outcome.kind !== "skipped") break;
  }
  return results;
}

/**
 * One call's report as per-event results. A success or a skip covers every event; a failure is the
 * first event's, after the `delivered` ones a partial batch got through.
 */
function spread(jobs: readonly DeliveryJob[], report: AttemptReport): DeliveryResult[] {
  const kind = report.outcome.kind;
  if (kind === "succeeded" || kind === "skipped") return jobs.map((job) => ({ seq: job.event.seq, report }));
  const delivered = Math.min(report.delivered ?? 0, jobs.length - 1);
  const succeeded: AttemptReport = { ...report, outcome: { kind: "succeeded" }, delivered: undefined };
  return [
    ...jobs.slice(0, delivered).map((job) => ({ seq: job.event.seq, report: succeeded })),
    { seq: jobs[delivered]!.event.seq, report: { ...report, delivered: undefined } },
  ];
}

async function withTimeout(
  env: Cloudflare.Env,
  run: (settings: DeploymentSettings, signal: AbortSignal) => Promise<HandlerResult | void>,
): Promise<AttemptReport> {
  const startedAt = Date.now();
  const settings = deploymentSettings(env);
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // The signal stops well-behaved fetches; the race also ends a handler that ignores it.
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new AttemptTimeout(`timed out after ${settings.handlerTimeoutMs} ms`));
      reject(new AttemptTimeout(`timed out after ${settings.handlerTimeoutMs} ms`));
    }, settings.handlerTimeoutMs);
  });
  try {
    const result = await Promise.race([run(settings, controller.signal), timeout]);
    return { outcome: { kind: "succeeded" }, result: result ?? undefined, startedAt, durationMs: Date.now() - startedAt };
  } catch (err) {
    if (err instanceof PartialBatchError) {
      return { outcome: outcomeOfError(err.cause), delivered: err.delivered, startedAt, durationMs: Date.now() - startedAt };
    }
    return { outcome: outcomeOfError(err), startedAt, durationMs: Date.now() - startedAt };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
