import { validate, type Struct } from "superstruct";
import { readJsonBody } from "../request-body.ts";
import { ApiError } from "../../api/errors.ts";
import { eventDefinition, registeredTypes } from "../../events/registry.ts";
import { toIssues } from "../../schemas/issues.ts";
import { hasSecretsKey } from "../../control/secrets.ts";
import { isLocalRequest } from "../../local.ts";
import { refusedUrl } from "../../net/url-policy.ts";

/** A control-plane request body, validated: `400 invalid_request` with issues when it does not fit. */
export async function readRequest<T, S>(request: Request, env: Cloudflare.Env, struct: Struct<T, S>, what: string): Promise<T> {
  const [error, value] = validate(await readJsonBody(request, env), struct);
  if (error) throw new ApiError(400, "invalid_request", `The ${what} is invalid`, toIssues(error));
  return value;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

/** Event types a request names (an endpoint's, a backfill's) must be registered ones: `422 unknown_event_type`. */
export function requireRegisteredTypes(types: readonly string[] | null | undefined): void {
  const unknown = (types ?? []).filter((t) => !eventDefinition(t));
  if (unknown.length > 0) {
    throw new ApiError(422, "unknown_event_type", `Unknown event type: ${unknown.join(", ")}; registered: ${registeredTypes().join(", ")}`);
  }
}

export function notFound(what: string): ApiError {
  return new ApiError(404, "not_found", `No such ${what}`);
}

/** A control-plane write the tenant's actor refused: the caller's view of the tenant is stale (erased, or re-created since). */
export function staleTenant(): ApiError {
  return new ApiError(401, "unauthorized", "Unknown API key");
}

/**
 * Refuses a write that would seal a secret (or tag an API key) where SECRETS_KEY is unset outside
 * local development: `503 configuration_error` until the operator sets it.
 */
export function requireSecretsKey(env: Cloudflare.Env, request: Request): void {
  if (hasSecretsKey(env) || isLocalRequest(env, request)) return;
  throw new ApiError(503, "configuration_error", "SECRETS_KEY is unset on this deployment: set it before storing secrets or creating API keys", undefined, {
    "Retry-After": "3600",
  });
}

/** A tenant-set URL the outbound address policy refuses: `400 invalid_request` at `path`. */
export function checkUrl(env: Cloudflare.Env, request: Request, url: string, path = "url"): void {
  const refused = refusedUrl(url, { env, ownHost: new URL(request.url).hostname });
  if (refused) throw new ApiError(400, "invalid_request", `The URL is not allowed: ${refused}`, [{ path, message: `names ${refused}` }]);
}
