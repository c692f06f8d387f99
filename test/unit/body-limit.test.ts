// The body limit, with no proxy in front: a streamed body with no Content-Length is counted as it
// arrives, and past the limit the rest is read (up to a bound) before the 413, so a proxy that is
// still forwarding the body can deliver the answer instead of "connection lost".
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/api/errors.ts";
import { readBodyLimited } from "../../src/router/body.ts";

/** A request whose body streams `total` bytes in chunks, counting what was pulled from it. */
function streamed(total: number, chunk = 16_384): { request: Request; pulled: () => number; cancelled: () => boolean } {
  let sent = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const size = Math.min(chunk, total - sent);
      sent += size;
      controller.enqueue(new Uint8Array(size));
    },
    cancel() {
      cancelled = true;
    },
  });
  return { request: new Request("http://localhost/v1/events", { method: "POST", body, duplex: "half" } as RequestInit), pulled: () => sent, cancelled: () => cancelled };
}

describe("reading a body under a limit", () => {
  it("takes a streamed body up to the limit", async () => {
    const { request } = streamed(100_000);
    expect((await readBodyLimited(request, 100_000)).byteLength).toBe(100_000);
  });

  it("reads a body just over the limit to its end before answering 413", async () => {
    const { request, pulled, cancelled } = streamed(100_001);
    await expect(readBodyLimited(request, 100_000)).rejects.toMatchObject({ status: 413, code: "payload_too_large" });
    expect(pulled()).toBe(100_001);
    expect(cancelled()).toBe(false);
  });

  it("cuts off a body far over the limit once it has read a bounded amount past it", async () => {
    const { request, pulled, cancelled } = streamed(50 * 1024 * 1024);
    const refused = await readBodyLimited(request, 100_000).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApiError);
    expect(cancelled()).toBe(true);
    // The limit, then at most 1 MiB more (and a chunk of slack), never the 50 MiB.
    expect(pulled()).toBeLessThan(100_000 + 1024 * 1024 + 2 * 16_384);
  });
});
