import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { receiverVars } from "./scripts/receiver.ts";

/** Tenants for the workerd tests: one per concern, so tenant-wide state does not leak between files. */
const TEST_TENANTS: Record<string, unknown> = Object.fromEntries(
  ["demo", "alerts", "replay", "lists", "limited"].map((name) => [name, { apiKeys: [name === "demo" ? "dev_demo_key" : `${name}_key`] }]),
);
// Signed sources (test/unit/sources.test.ts): one of each scheme, plus 20 tenants with one source each.
TEST_TENANTS.src = {
  apiKeys: ["src_key"],
  sources: {
    sw: { scheme: "standard-webhooks", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
    stripe: { scheme: "stripe", secret: "whsec_stripe_test_secret", mapping: { types: { "customer.created": "lead.created" } } },
    gh: { scheme: "github", secret: "gh-test-secret", mapping: { types: { "issues.opened": "lead.updated" }, data: "", id: "sender.login" } },
    hmac: { scheme: "hmac-sha256", secret: "hmac-test-secret", header: "x-edgeflow-signature" },
    shop: { scheme: "shopify", secret: "shpss_test_secret", mapping: { types: { "customers/create": "lead.updated" } } },
  },
};
for (let i = 1; i <= 20; i++) {
  TEST_TENANTS[`t${i}`] = { apiKeys: [`t${i}_key`], sources: { hook: { scheme: "standard-webhooks", secret: `whsec_${btoa(`secret-of-tenant-${i}`)}` } } };
}

/**
 * End-to-end files whose assertions depend on time (calls per second at a receiver, costs that
 * rest on a report arriving within the alarm's wait): the e2e-timed project runs them last and
 * alone, so a neighbour's load on the two cores cannot bend them.
 */
const TIMED = ["test/e2e/delivery-control.test.ts", "test/e2e/cost.test.ts"];

export default defineConfig({
  test: {
    projects: [
      {
        // Unit and actor tests run inside workerd against the real bindings in wrangler.jsonc,
        // with every handler pointed at a real local receiver and a fast retry schedule.
        plugins: [
          cloudflareTest(({ inject }) => {
            const { AI_API_URL: _unsetSoAiHandlersSkip, ...vars } = receiverVars(inject("receiverUrl"));
            return {
              wrangler: { configPath: "./wrangler.jsonc" },
              miniflare: {
                bindings: {
                  ...vars,
                  TENANTS: JSON.stringify(TEST_TENANTS),
                  // The receivers are on loopback, as under `npm start`.
                  LOCAL_DEV: "1",
                  ALLOW_PRIVATE_DESTINATIONS: "1",
                  RETRY_BASE_MS: "40",
                  RETRY_MAX_DELAY_MS: "2000",
                  RETRY_MAX_ATTEMPTS: "4",
                  HANDLER_TIMEOUT_MS: "1500",
                  FOLLOW_UP_DELAY_MS: "300",
                  ALERT_INTERVAL_MS: "60000",
                  // The log lines are tested over HTTP (test/e2e/logs.test.ts). Here they are noise, and
                  // worse: a line logged by an alarm that outlives its test reaches the pool from
                  // another I/O context, and the run sometimes never ends (a CI run hung 30 minutes
                  // after a file whose retries went on logging dead letters).
                  LOG_LEVEL: "error",
                },
                // A low per-tenant limit, so test/unit/rate-limit.test.ts can reach it.
                ratelimits: {
                  RATE_LIMITER: { namespace_id: "1001", simple: { limit: 40, period: 10 as const } },
                  AUTH_FAILURE_LIMITER: { namespace_id: "1002", simple: { limit: 1000, period: 60 as const } },
                },
              },
            };
          }),
        ],
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], globalSetup: ["test/unit/global-setup.ts"] },
      },
      {
        // The per-tenant rate limit and the failed-authentication limit, low enough to reach.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.jsonc" },
            miniflare: {
              bindings: {
                TENANTS: JSON.stringify({ busy: { apiKeys: ["busy_key"] }, calm: { apiKeys: ["calm_key"] } }),
                // Info lines logged by alarms that outlive the test reach the pool from another I/O
                // context, and with them the run sometimes never ends after this project's file.
                LOG_LEVEL: "warn",
              },
              ratelimits: {
                RATE_LIMITER: { namespace_id: "1001", simple: { limit: 5, period: 10 as const } },
                AUTH_FAILURE_LIMITER: { namespace_id: "1002", simple: { limit: 3, period: 60 as const } },
              },
            },
          }),
        ],
        test: { name: "rate-limit", include: ["test/rate-limit/**/*.test.ts"] },
      },
      {
        // Black-box tests: a real local server (wrangler dev) and real local receivers, over HTTP.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          exclude: TIMED,
          setupFiles: ["test/e2e/setup.ts"],
          environment: "node",
          // Two files at once: each starts its own server on free ports with its own state, and
          // every wait is a poll with a deadline, so they do not share anything but the CPU.
          fileParallelism: true,
          maxWorkers: 2,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        // Black-box tests whose assertion is about time at a receiver (no second holding more than
        // a rate limit allows): they run last and alone, since a neighbour's load on the two
        // cores delays calls in flight and bunches them at the receiver whatever the sender did.
        test: {
          name: "e2e-timed",
          include: TIMED,
          setupFiles: ["test/e2e/setup.ts"],
          environment: "node",
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
