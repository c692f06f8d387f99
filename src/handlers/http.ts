import { PermanentError, RetryableError, SkipDelivery } from "../delivery/errors";
import { isRetryableStatus, parseRetryAfter } from "../delivery/retry";
import { tenantConfig } from "../config";
import { signStandardWebhooks } from "../sources/sign";
import { VERSION } from "../version";
import type { HandlerContext } from "./handler";

/** Reads an optional setting; unset or empty means the handler is not configured. */
export function required(context: HandlerContext, ...names: Array<keyof Cloudflare.Env>): string[] {
  const values = names.map((name) => context.env[name]);
  const missing = names.filter((_, i) => typeof values[i] !== "string" || values[i] === "");
  if (missing.length > 0) throw new SkipDelivery(`not configured: ${missing.join(", ")} unset`);
  // Checked just above: every value is a non-empty string.
  return values as string[];
}

/**
 * Sends one outbound JSON call with the delivery's idempotency key and classifies the answer:
 * 2xx returns the response; 408/409/425/429/5xx throw `RetryableError` (with `Retry-After`);
 * any other status throws `PermanentError`. Network errors and the timeout propagate and retry.
 */
export async function sendJson(
  context: HandlerContext,
  url: string,
  init: { method?: string; body: unknown; headers?: Record<string, string> },
): Promise<Response> {
  const body = JSON.stringify(init.body);
  const signingSecret = tenantConfig(context.env, context.tenant)?.signingSecret;
  const response = await fetch(url, {
    method: init.method ?? "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": `edgeflow/${VERSION}`,
      "idempotency-key": context.idempotencyKey,
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
