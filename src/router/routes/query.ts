import type { IRequest } from "itty-router";
import { ApiError } from "../../api/errors.ts";

/** An integer query parameter within bounds; absent means `fallback`, anything else is a 400. */
export function intParam(request: IRequest, name: string, fallback: number, min: number, max: number): number {
  const raw = new URL(request.url).searchParams.get(name);
  if (raw === null || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ApiError(400, "invalid_request", `Query parameter ${name} must be an integer from ${min} to ${max}`, [
      { path: name, message: `must be an integer from ${min} to ${max}` },
    ]);
  }
  return value;
}
