import { PermanentError, RetryableError, SkipDelivery } from "../delivery/errors";
import { isRetryableStatus, parseRetryAfter } from "../delivery/retry";
import { tenantConfig } from "../config";
import { destinationOf } from "../control/destinations";
import type { DestinationKind, Destinations } from "../control/model";
import { signStandardWebhooks } from "../sources/sign";
import { VERSION } from "../version";
import type { HandlerContext } from "./handler";
import type { HandlerSetting } from "./settings.ts";

type Setting = keyof Cloudflare.Env;

/** Why a handler with these declared settings cannot run here (a required one unset or empty), or null. */
export function unconfiguredBy(env: Cloudflare.Env, settings: readonly HandlerSetting[]): string | null {
  return missingSettings(env, ...settings.filter((s) => s.required).map((s) => s.name as Setting));
}

/** The skip reason when any of these settings is unset or empty, else null. */
export function missingSettings(env: Cloudflare.Env, ...names: Setting[]): string | null {
  const missing = names.filter((name) => typeof env[name] !== "string" || env[name] === "");
  return missing.length > 0 ? `not configured: ${missing.join(", ")} unset` : null;
}

/**
 * The destination this delivery goes to: the tenant's own, else the deployment-wide one; with
 * neither, the delivery is skipped.
 */
export function destination<K extends DestinationKind>(context: HandlerContext, kind: K): NonNullable<Destinations[K]> {
  const found = destinationOf(context.env, context.tenant, context.tenantConfig, kind);
  if (!found) throw new SkipDelivery(`not configured: no ${kind} destination for tenant ${context.tenant} and no deployment-wide one`);
  return found.destination;
}

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
  const signingSecret = init.signWith ?? tenantConfig(context.env, context.tenant)?.signingSecret;
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
      ...(signingSecret ? await signStandardWebhooks(signingSecret, context.idempotencyKey, body) : {}),
      ...init.headers,
    },
    body,
    signal: context.signal,
  });
  if (response.ok) return response;
  // Keep a little of the body for the delivery's lastError; drop the rest.
  const detail = (await response.text().catch(() => "")).slice(0, 200);
  const message = `HTTP ${response.status}${detail ? `: ${detail}` : ""}`;
  if (isRetryableStatus(response.status)) {
    throw new RetryableError(message, response.status, parseRetryAfter(response.headers.get("retry-after")));
  }
  throw new PermanentError(message, response.status);
}
