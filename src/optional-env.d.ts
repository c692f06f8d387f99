// Optional settings and secrets. `wrangler types` only sees what wrangler.jsonc declares,
// so the ones that are unset by default are declared here by interface merging.
declare namespace Cloudflare {
  interface Env {
    /** JSON map of tenants, their API keys and signed sources (a secret in production). */
    TENANTS?: string;
    SLACK_WEBHOOK_URL?: string;
    EMAIL_API_URL?: string;
    EMAIL_API_KEY?: string;
    EMAIL_FROM?: string;
    CRM_API_URL?: string;
    CRM_API_KEY?: string;
    AI_API_URL?: string;
    AI_API_KEY?: string;
    AI_MODEL?: string;
    /** "1" serves `GET /_usage` (billable units counted in the isolate) for `npm run cost`. */
    USAGE_ENDPOINT?: string;
    /** "warn" or "error" leaves out the per-request and per-delivery info lines (default "info"). */
    LOG_LEVEL?: string;
    /** Operator key for /v1/admin/* (a secret); unset: `dev_admin_key`, on loopback only. */
    ADMIN_API_KEY?: string;
    /** Base64 of 32 random bytes; seals stored secrets (AES-GCM). Unset: a development key. */
    SECRETS_KEY?: string;

  }
}
