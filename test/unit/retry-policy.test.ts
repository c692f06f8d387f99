import { describe, expect, it } from "vitest";
import { PermanentError, RetryableError, SkipDelivery } from "../../src/delivery/policy/errors.ts";
import { backoffCeiling, isRetryableStatus, outcomeOfError, parseRetryAfter, retryDelay } from "../../src/delivery/policy/retry.ts";
import { parseAnalysis } from "../../src/handlers/ai.ts";

const policy = { retryBaseMs: 1000, retryMaxDelayMs: 3_600_000 };

describe("retry policy", () => {
  it.each([
    [200, false], [204, false], [400, false], [401, false], [403, false], [404, false], [410, false], [422, false],
    [408, true], [409, true], [425, true], [429, true], [500, true], [502, true], [503, true], [504, true],
  ])("status %i retryable: %s", (status, retryable) => {
    expect(isRetryableStatus(status)).toBe(retryable);
  });

  it("grows the ceiling exponentially up to the cap", () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffCeiling(n, policy))).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(backoffCeiling(30, policy)).toBe(3_600_000);
    expect(backoffCeiling(10_000, policy)).toBe(3_600_000);
  });

  it("draws each delay uniformly between 0 and the ceiling (full jitter)", () => {
    for (const attempt of [1, 4, 12]) {
      expect(retryDelay(attempt, policy, undefined, () => 0)).toBe(0);
      expect(retryDelay(attempt, policy, undefined, () => 0.999999)).toBe(Math.floor(0.999999 * backoffCeiling(attempt, policy)));
      const samples = Array.from({ length: 2000 }, () => retryDelay(attempt, policy));
      for (const s of samples) {
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(backoffCeiling(attempt, policy));
      }
      // Spread, not a fixed schedule: the samples cover the low and the high quarter.
      expect(samples.some((s) => s < backoffCeiling(attempt, policy) / 4)).toBe(true);
      expect(samples.some((s) => s > (backoffCeiling(attempt, policy) * 3) / 4)).toBe(true);
    }
  });

  it("treats Retry-After as a floor, capped at the maximum delay", () => {
    expect(retryDelay(1, policy, 30_000, () => 0.5)).toBe(30_000);
    expect(retryDelay(1, policy, 10, () => 0.5)).toBe(500);
    expect(retryDelay(1, { retryBaseMs: 10, retryMaxDelayMs: 2000 }, 86_400_000, () => 0)).toBe(2000);
  });

  it("parses Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-11-24T10:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Tue, 24 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Tue, 24 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it("classifies thrown errors by their class", () => {
    expect(outcomeOfError(new SkipDelivery("not configured"))).toEqual({ kind: "skipped", reason: "not configured" });
    expect(outcomeOfError(new PermanentError("HTTP 404", 404))).toEqual({ kind: "dead", error: "HTTP 404", statusCode: 404 });
    expect(outcomeOfError(new RetryableError("HTTP 503", 503, 5000))).toEqual({ kind: "retry", error: "HTTP 503", statusCode: 503, retryAfterMs: 5000 });
    expect(outcomeOfError(new TypeError("fetch failed"))).toMatchObject({ kind: "retry", error: "TypeError: fetch failed" });
    expect(outcomeOfError(new DOMException("timed out", "TimeoutError"))).toMatchObject({ kind: "retry", error: "timed out" });
  });
});

describe("AI reply parsing", () => {
  it.each([
    ['{"score": 72, "summary": "Good"}', { score: 72, summary: "Good" }],
    ['Sure! ```json\n{"score": "88.6", "summary": "Hot"}\n```', { score: 89, summary: "Hot" }],
    ['{"score": 140, "summary": "x"}', { score: 100, summary: "x" }],
    ['{"score": "high", "summary": "x"}', null],
    ["no json here", null],
    ['{"summary": "x"}', null],
  ])("%s", (content, expected) => {
    expect(parseAnalysis(content)).toEqual(expected);
  });
});
