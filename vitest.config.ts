import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { receiverVars } from "./scripts/receiver.ts";

/** Tenants for the workerd tests: one per concern, so tenant-wide state does not leak between files. */
const TEST_TENANTS = Object.fromEntries(
  ["demo", "alerts", "replay", "lists"].map((name) => [name, { apiKeys: [name === "demo" ? "dev_demo_key" : `${name}_key`] }]),
);

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
                  RETRY_BASE_MS: "40",
                  RETRY_MAX_DELAY_MS: "2000",
                  RETRY_MAX_ATTEMPTS: "4",
                  HANDLER_TIMEOUT_MS: "1500",
                  FOLLOW_UP_DELAY_MS: "300",
                  ALERT_INTERVAL_MS: "60000",
                },
              },
            };
          }),
        ],
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], globalSetup: ["test/unit/global-setup.ts"] },
      },
      {
        // Black-box tests: a real local server (wrangler dev) and real local receivers, over HTTP.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
