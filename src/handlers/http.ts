import { PermanentError, RetryableError, SkipDelivery } from "../delivery/policy/errors.ts";
import { isRetryableStatus, parseRetryAfter } from "../delivery/policy/retry.ts";
import { withoutControls } from "../text.ts";
import { signStandardWebhooks } from "../sources/sign.ts";
import { VERSION } from "../version.ts";
import type { DestinationKindDef, DestinationValue } from "./destination-kind.ts";
import { destinationOf, noDestinationReason, refusedDestination } from "./destinations.ts";
import type { HandlerContext } from "./handler.ts";

/**
 * The destination this delivery goes to (destinations.ts); with none, the delivery is skipped. A
 * tenant-set URL the outbound address policy refuses is never called: the delivery is dead at
 * once, with the reason.
 */
export function destination<D extends DestinationKindDef>(context: HandlerContext, kind: D): DestinationValue<D> {
  const found = destinationOf(context.env, context.configuration, kind);
  if (!found) throw new SkipDelivery(noDestinationReason(context.configuration, kind));
  const refused = refusedDestination(context.env, found);
  if (refused) throw new PermanentError(`refused by the outbound address policy: ${refused}`);
  return found.destination;
}

/** How much of a receiver's answer a delivery's lastError keeps. */
const LAST_ERROR_BODY_CHARS = 200;

/**
 * Sends one outbound JSON call with the delivery's idempotency key and classifies the answer:
 * 2xx returns the response; 408/409/425/429/5xx throw `RetryableError` (with `Retry-After`);
 * any other status throws `PermanentError`. Network errors and the timeout propagate and retry.
 */
export async function sendJson(
  context: HandlerContext,
  url: string,
  init: { method?: string; body: unknown; headers?: Record<string, string>; signWith?: string },
): Promise<Response> {
  const body = JSON.stringify(init.body);
  // An endpoint signs with its own secret; other calls with the tenant's TENANTS signingSecret, if any.
  const signingSecret = init.signWith ?? context.configuration.signingSecret;
  const response = await fetch(url, {
    method: init.method ?? "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": `edgeflow/${VERSION}`,
      "idempotency-key": context.idempotencyKey,
      // What the key stands for, readable whatever its form.
      "edgeflow-tenant": context.tenant,
      "edgeflow-entity": `${context.entity.type}/${context.entity.id}`,
      "edgeflow-event-id": context.event.id,
      "edgeflow-handler": context.handler,
      // The event's position in its entity's log: a receiver drops a stale update with one comparison.
      "edgeflow-seq": String(context.event.seq),
      // Sent again on purpose (a replay or a backfill): receivers may treat it as history, not news.
      ...(context.replay ? { "edgeflow-replay": "true" } : {}),
      ...(signingSecret ? await signStandardWebhooks(signingSecret, context.idempotencyKey, body) : {}),
      ...init.headers,
    },
    body,
    signal: context.signal,
  });
  if (response.ok) return response;
  // Keep a little of the body for the delivery's lastError, with no control characters; drop the rest.
  const detail = withoutControls(await response.text().catch(() => ""), LAST_ERROR_BODY_CHARS);
  const message = `HTTP ${response.status}${detail ? `: ${detail}` : ""}`;
  if (isRetryableStatus(response.status)) {
    throw new RetryableError(message, response.status, parseRetryAfter(response.headers.get("retry-after")));
  }
  throw new PermanentError(message, response.status);
}
