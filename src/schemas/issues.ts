import type { StructError } from "superstruct";
import type { Issue } from "../api/errors.ts";

/** Superstruct failures as the contract's `issues`: paths dotted and prefixed, one issue per path. */
export function toIssues(error: StructError, prefix = ""): Issue[] {
  const byPath = new Map<string, string>();
  for (const failure of error.failures()) {
    const path = [prefix, ...failure.path.map(String)].filter((part) => part !== "").join(".");
    if (!byPath.has(path)) byPath.set(path, failure.message);
  }
  return [...byPath].map(([path, message]) => ({ path, message }));
}
