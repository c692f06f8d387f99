import { validate, type Struct } from "superstruct";
import { readJsonBody } from "../request-body";
import { ApiError } from "../errors";
import { toIssues } from "../schemas/envelope";

/** A control-plane request body, validated: `400 invalid_request` with issues when it does not fit. */
export async function readRequest<T, S>(request: Request, env: Cloudflare.Env, struct: Struct<T, S>, what: string): Promise<T> {
  const [error, value] = validate(await readJsonBody(request, env), struct);
  if (error) throw new ApiError(400, "invalid_request", `The ${what} is invalid`, toIssues(error));
  return value;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

export function notFound(what: string): ApiError {
  return new ApiError(404, "not_found", `No such ${what}`);
}
