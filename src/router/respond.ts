// How the router answers with an error: the contract's JSON for an ApiError, and for anything else
// a 503 that tells the client to retry, its internals logged and never sent.
import { ApiError, errorBody } from "../api/errors.ts";
import { logLine } from "../log.ts";

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
