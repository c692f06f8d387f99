// The contract's errors: every code the API answers with, and the error that carries one from
// anywhere in the router to its single `catch` (src/router/respond.ts renders it).

/** One problem with a request body, as the contract's `issues` array lists it. */
export interface Issue {
  path: string;
  message: string;
}

/** Every error code the API answers with: the contract's list, and OpenAPI's (src/api/openapi.ts). */
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

/** The contract's error body as a client reads it. */
export interface ApiErrorBody {
  error: { code: string; message: string; issues?: Issue[] };
}

/** The contract's error body: `{"error":{"code","message","issues"?}}`. */
export function errorBody(code: ErrorCode, message: string, issues?: Issue[]): { error: { code: ErrorCode; message: string; issues?: Issue[] } } {
  return { error: issues && issues.length > 0 ? { code, message, issues } : { code, message } };
}
