import { ApiError } from "../api/errors.ts";

/** Guards against bodies that are valid JSON yet costly to hold or walk. */
const MAX_JSON_DEPTH = 32;
const MAX_JSON_KEYS = 10_000;

/**
 * Reads the request body, counting the bytes actually received: `Content-Length` is only a
 * hint (it can be absent or lie), so the stream is cut off as soon as it passes `limit`.
 */
export async function readBodyLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array(0);
  // A declared length frames the body (HTTP never delivers more than it), so the common case is
  // one read; the count below still guards it. Chunked bodies are counted as they stream.
  if (declared !== null && /^\d+$/.test(declared)) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > limit) throw tooLarge(limit);
    return bytes;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await drain(reader, limit);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Past the limit, the rest of a body is read and dropped, up to as much again as the limit (and at
 * least DRAIN_MIN_BYTES), before the 413 goes out; only a body larger than that is cut off. A proxy
 * in front (wrangler dev's, or any that forwards the body as it streams) may not take an answer
 * while it is still sending, and turns a cancelled stream into "connection lost" (a 500, or no
 * answer) instead of the 413 the client should see.
 */
const DRAIN_MIN_BYTES = 1024 * 1024;

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, limit: number): Promise<void> {
  let left = Math.max(limit, DRAIN_MIN_BYTES);
  while (left > 0) {
    const { done, value } = await reader.read();
    if (done) return;
    left -= value.byteLength;
  }
  await reader.cancel().catch(() => {});
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, "payload_too_large", `The request body exceeds ${limit} bytes`);
}

/** Accepts `application/json` and `application/*+json`, with any parameters. */
export function requireJsonContentType(request: Request): void {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(type)) return;
  throw new ApiError(415, "unsupported_media_type", "Content-Type must be application/json");
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Strict UTF-8 decode plus `JSON.parse`, with depth and key-count limits. */
export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ApiError(400, "invalid_json", "The request body is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, "invalid_json", `The request body is not valid JSON: ${err instanceof Error ? err.message : "parse error"}`);
  }
  checkShape(value);
  return value;
}

/**
 * Walks the parsed value iteratively (no recursion to exhaust) enforcing depth and key limits, and
 * I-JSON's finite numbers (RFC 7493): `JSON.parse` turns `1e999` into Infinity, which would be
 * stored and read back as null, silently changing what the client sent.
 */
function checkShape(root: unknown): void {
  let keys = 0;
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new ApiError(400, "invalid_json", "The request body has a number too large to represent (I-JSON numbers must be finite)");
    }
    if (value === null || typeof value !== "object") continue;
    if (depth >= MAX_JSON_DEPTH) {
      throw new ApiError(400, "invalid_json", `The request body nests deeper than ${MAX_JSON_DEPTH} levels`);
    }
    const children = Array.isArray(value) ? value : Object.values(value);
    keys += children.length;
    if (keys > MAX_JSON_KEYS) throw new ApiError(400, "invalid_json", `The request body has more than ${MAX_JSON_KEYS} keys and items`);
    for (const child of children) stack.push([child, depth + 1]);
  }
}
