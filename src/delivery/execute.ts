import { settings as readSettings } from "../config";
import type { DeliveryJob, HandlerResult } from "../handlers/handler";
import { handler as findHandler } from "../handlers/registry";
import { outcomeOfError, type AttemptOutcome } from "./retry";

/** What one attempt produced; reported to the entity's actor, which decides what happens next. */
export interface AttemptReport {
  outcome: AttemptOutcome;
  result?: HandlerResult;
  startedAt: number;
  durationMs: number;
}

class AttemptTimeout extends Error {
  override name = "TimeoutError";
}

/**
 * Runs one attempt of a delivery with the per-attempt timeout. Used by the actor's alarm for
 * inline handlers and by the Queue consumer for queued ones, so both classify outcomes alike.
 * Never throws: every failure becomes an outcome.
 */
export async function executeDelivery(job: DeliveryJob, env: Cloudflare.Env): Promise<AttemptReport> {
  const startedAt = Date.now();
  const handler = findHandler(job.handler);
  if (!handler) return { outcome: { kind: "dead", error: `unknown handler ${job.handler}` }, startedAt, durationMs: 0 };
  const settings = readSettings(env);
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
    const result = await Promise.race([handler.run({ ...job, env, settings, signal: controller.signal }), timeout]);
    return { outcome: { kind: "succeeded" }, result: result ?? undefined, startedAt, durationMs: Date.now() - startedAt };
  } catch (err) {
    return { outcome: outcomeOfError(err), startedAt, durationMs: Date.now() - startedAt };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
