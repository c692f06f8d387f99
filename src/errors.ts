/** One problem with a request body, as the contract's `issues` array lists it. */
export interface Issue {
  path: string;
  message: string;
}

/**
 * An error whose disposition is a client-facing HTTP answer. Thrown anywhere in the router;
 * the router's single `catch` turns it into the contract's JSON error shape.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues?: Issue[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The contract's error body: `{"error":{"code","message","issues"?}}`. */
export function errorBody(code: string, message: string, issues?: Issue[]): { error: { code: string; message: string; issues?: Issue[] } } {
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
  console.error(
    JSON.stringify({
      level: "error",
      msg: "unhandled error",
      method: request?.method,
      path: request ? new URL(request.url).pathname : undefined,
      error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
    }),
  );
  // An actor that is overloaded or being reset is a transient condition the caller should retry.
  return Response.json(errorBody("unavailable", "The service could not complete the request; retry later"), {
    status: 503,
    headers: { "Retry-After": "1" },
  });
}
