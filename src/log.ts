// Structured logs: one JSON line per accepted request, per delivery outcome and per dead letter,
// read with `wrangler tail` (or Workers Logs) and filtered by their fields. They name what
// happened (tenant, entity, event id, handler, attempt, status, duration) and never carry a
// secret or a payload: no event data, no response bodies, no keys.

type Value = string | number | boolean | null | undefined;
/** A field: a value, or a small record of values (an entity `{type, id}`, an error's name and message). */
type Field = Value | { readonly [key: string]: Value } | { readonly type: string; readonly id: string };
type Level = "info" | "warn" | "error";

const RANK: Record<Level, number> = { info: 0, warn: 1, error: 2 };

/**
 * Writes one line, unless `LOG_LEVEL` (default `info`) asks for fewer. Every log line of the Worker
 * and its actors goes through here. Without `env` (code that has none at hand), every level is written.
 */
export function logLine(env: Pick<Cloudflare.Env, "LOG_LEVEL"> | undefined, level: Level, msg: string, fields: Record<string, Field> = {}): void {
  const least = env?.LOG_LEVEL === "warn" || env?.LOG_LEVEL === "error" ? env.LOG_LEVEL : "info";
  if (RANK[level] < RANK[least]) return;
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "info") console.log(line);
  else if (level === "warn") console.warn(line);
  else console.error(line);
}

/**
 * The part of a delivery error safe to log: its kind ("HTTP 503", "timed out", "TypeError"),
 * never the text after it, which may quote a receiver's response body.
 */
export function errorKind(error: string | null | undefined): string | null {
  if (!error) return null;
  const colon = error.indexOf(":");
  return (colon < 0 ? error : error.slice(0, colon)).slice(0, 80);
}
