import { entityActor, type EntityActorRpc } from "./actors";
import { executeDelivery } from "./delivery/execute";
import type { AttemptReport } from "./delivery/outcome";
import type { DeliveryJob } from "./handlers/handler";
import { addUsage, queueUnits } from "./usage";
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

/** Tries to report an outcome a few times: the call already ran, so only the report is repeated. */
const REPORT_TRIES = 3;

async function reportWithRetries(actor: EntityActorRpc, outboxId: number, attempt: number, report: AttemptReport): Promise<void> {
  for (let tryNo = 1; ; tryNo++) {
    try {
      await actor.reportOutcome(outboxId, attempt, report);
      return;
    } catch (err) {
      if (tryNo >= REPORT_TRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * tryNo));
    }
  }
}

/**
 * Queue consumer for slow handlers. Each message is handled on its own: claim the delivery from its
 * actor, run one attempt, report the outcome back. The claim is exclusive, so a message is retried
 * only when the claim itself could not be made; once an attempt has run, its message is acked
 * whether or not the report got through (a re-delivered message would find the attempt claimed
 * and run nothing). An unreported attempt's lease lapses and the actor decides: it re-sends, and
 * after `MAX_UNREPORTED_SENDS` lapses it counts a failed try, so such a delivery still ends dead.
 */
export async function consumeSlowWork(batch: MessageBatch<unknown>, env: Cloudflare.Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const units = queueUnits(JSON.stringify(message.body ?? null).length);
      addUsage("queueReads", units);
      const ack = () => {
        message.ack();
        addUsage("queueDeletes", units);
      };
      if (!isSlowWorkMessage(message.body)) {
        console.error(JSON.stringify({ level: "error", msg: "malformed queue message dropped", id: message.id }));
        ack();
        return;
      }
      const { tenant, entity, outboxId, attempt } = message.body;
      const actor = entityActor(env, tenant, entity);
      let job: DeliveryJob | null;
      try {
        job = await actor.claimDelivery(outboxId, attempt);
      } catch (err) {
        console.error(JSON.stringify({ level: "warn", msg: "queued delivery not claimed; retrying message", tenant, entity, outboxId, error: String(err) }));
        message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
        return;
      }
      if (job) {
        const report = await executeDelivery(job, env);
        try {
          await reportWithRetries(actor, outboxId, attempt, report);
        } catch (err) {
          console.error(JSON.stringify({ level: "warn", msg: "queued outcome not reported; the lease will lapse", tenant, entity, outboxId, attempt, error: String(err) }));
        }
      }
      ack();
    }),
  );
}
