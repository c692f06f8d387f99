import { entityActor } from "./actors";
import { executeDelivery } from "./delivery/execute";
import type { EntityRef } from "./types";

/**
 * A queued delivery travels by reference: which row of which actor, and which attempt (the lease).
 * It is always a few hundred bytes, whatever the event's size, so the 128 KB limit never applies;
 * the consumer fetches the event and state from the actor.
 */
export interface SlowWorkMessage {
  tenant: string;
  entity: EntityRef;
  outboxId: number;
  attempt: number;
}

function isSlowWorkMessage(body: unknown): body is SlowWorkMessage {
  if (typeof body !== "object" || body === null) return false;
  // Shape check only; the actor validates the lease itself.
  const m = body as Partial<SlowWorkMessage>;
  return typeof m.tenant === "string" && typeof m.outboxId === "number" && typeof m.attempt === "number" && typeof m.entity?.id === "string";
}

/**
 * Queue consumer for slow handlers. Each message is handled on its own: claim the delivery from its
 * actor, run one attempt, report the outcome back. The message is acked once the actor has the
 * outcome (the actor owns retries); it is retried only when the actor could not be reached.
 */
export async function consumeSlowWork(batch: MessageBatch<unknown>, env: Cloudflare.Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      if (!isSlowWorkMessage(message.body)) {
        console.error(JSON.stringify({ level: "error", msg: "malformed queue message dropped", id: message.id }));
        message.ack();
        return;
      }
      const { tenant, entity, outboxId, attempt } = message.body;
      try {
        const actor = entityActor(env, tenant, entity);
        const job = await actor.claimDelivery(outboxId, attempt);
        if (job) {
          const report = await executeDelivery(job, env);
          await actor.reportOutcome(outboxId, attempt, report);
        }
        message.ack();
      } catch (err) {
        console.error(JSON.stringify({ level: "warn", msg: "queued delivery not reported; retrying message", tenant, entity, outboxId, error: String(err) }));
        message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
      }
    }),
  );
}
