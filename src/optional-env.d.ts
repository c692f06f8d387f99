// Optional settings and secrets. `wrangler types` only sees what wrangler.jsonc declares,
// so the ones that are unset by default are declared here by interface merging. Destination
// variables (SLACK_WEBHOOK_URL, …) are not: each kind declares its own (src/handlers/kinds.ts),
// and they are read by name.
declare namespace Cloudflare {
  interface Env {
    /** JSON map of tenants, their API keys and signed sources (a secret in production). */
    TENANTS?: string;
    /** "1" serves `GET /_usage` (billable units counted in the isolate) for `npm run cost`. */
    USAGE_ENDPOINT?: string;
    /** "warn" or "error" leaves out the per-request and per-delivery info lines (default "info"). */
    LOG_LEVEL?: string;
    /** "1": a local development server (set by `npm start` and the tests, never deployed); see src/local.ts. */
    LOCAL_DEV?: string;
    /** "1": tenants may point destinations and endpoints at loopback and private addresses. */
    ALLOW_PRIVATE_DESTINATIONS?: string;
    /** Operator key for /v1/admin/* (a secret); unset: `dev_admin_key`, in local development only. */
    ADMIN_API_KEY?: string;
    /** Base64 of 32 random bytes; seals stored secrets (AES-GCM) and tags API keys. Unset: a development key, locally only. */
    SECRETS_KEY?: string;
  }
}
