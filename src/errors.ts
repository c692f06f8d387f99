import { logLine } from "./log.ts";

/** One problem with a request body, as the contract's `issues` array lists it. */
export interface Issue {
  path: string;
  message: string;
}

/** Every error code the API answers with: the contract's list, and OpenAPI's (src/openapi.ts). */
export const ERROR_CODES = [
  "invalid_json",
  "invalid_event",
  "invalid_request",
  "unauthorized",
  "invalid_signature",
  "not_found",
  "id_conflict",
  "tenant_exists",
  "limit_exceeded",
  "payload_too_large",
  "unsupported_media_type",
  "unknown_event_type",
  "rate_limited",
  "upgrade_required",
  "configuration_error",
  "gone",
  "entity_erased",
  "unavailable",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * An error whose disposition is a client-facing HTTP answer. Thrown anywhere in the router;
 * the router's single `catch` turns it into the contract's JSON error shape. Its code is one of
 * ERROR_CODES, so a code OpenAPI does not list fails `tsc`.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly issues?: Issue[];
  readonly headers?: Record<string, string>;

  constructor(status: number, code: ErrorCode, message: string, issues?: Issue[], headers?: Record<string, string>) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.issues = issues;
    this.headers = headers;
  }
}

/** The contract's error body: `{"error":{"code","message","issues"?}}`. */
export function errorBody(code: ErrorCode, message: string, issues?: Issue[]): { error: { code: ErrorCode; message: string; issues?: Issue[] } } {
  return { error: issues && issues.length > 0 ? { code, message, issues } : { code, message } };
}

/** Renders any thrown value as a JSON error response; internals are logged, never sent. */
export function errorResponse(err: unknown, request?: Request): Response {
  if (err instanceof ApiError) {
    return Response.json(errorBody(err.code, err.message, err.issues), {
      status: err.status,
      headers: err.headers,
    });
  }
  logLine(undefined, "error", "unhandled error", {
    method: request?.method,
    path: request ? new URL(request.url).pathname : undefined,
    error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
  });
  // An actor that is overloaded or being reset is a transient condition the caller should retry.
  return Response.json(errorBody("unavailable", "The service could not complete the request; retry later"), {
    status: 503,
    headers: { "Retry-After": "1" },
  });
}
