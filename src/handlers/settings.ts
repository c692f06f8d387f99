// The deployment settings (vars and secrets) each remote handler reads, declared once. The
// handlers' configuration check (a missing required setting settles their deliveries as skipped),
// the local receiver's `--var` hint and test wiring (scripts/receiver.ts), and the README's
// configuration table (checked by test/e2e/docs.test.ts) all read this one list. Plain data with
// no imports, so Node scripts can load it too.

export interface HandlerSetting {
  name: string;
  /** Without it the handler cannot run: its deliveries end `skipped`. */
  required: boolean;
  /** What a local receiver answers for it: a path under its URL, or a fixed value. */
  local?: { path: string } | { value: string };
}

const EMAIL = [
  { name: "EMAIL_API_URL", required: true, local: { path: "/email" } },
  { name: "EMAIL_API_KEY", required: true, local: { value: "test-email-key" } },
  { name: "EMAIL_FROM", required: true, local: { value: "edgeflow@example.com" } },
] as const;
const AI = [
  { name: "AI_API_URL", required: true, local: { path: "/ai" } },
  { name: "AI_API_KEY", required: false, local: { value: "test-ai-key" } },
  { name: "AI_MODEL", required: false },
] as const;

/** Per handler that calls out over HTTP, by its name in the registry. */
export const SETTINGS = {
  slack: [{ name: "SLACK_WEBHOOK_URL", required: true, local: { path: "/slack" } }],
  "welcome-email": EMAIL,
  "offer-email": EMAIL,
  crm: [
    { name: "CRM_API_URL", required: true, local: { path: "/crm" } },
    { name: "CRM_API_KEY", required: true, local: { value: "test-crm-key" } },
  ],
  "ai-analysis": AI,
  "offer-analysis": AI,
} as const satisfies Record<string, readonly HandlerSetting[]>;

/** The handlers that call out over HTTP: the ones a receiver sees. */
export function remoteHandlers(): Set<string> {
  return new Set(Object.keys(SETTINGS));
}

/** Every declared setting, once. */
export function allSettings(): HandlerSetting[] {
  const seen = new Map<string, HandlerSetting>();
  for (const group of Object.values(SETTINGS)) for (const s of group) seen.set(s.name, s);
  return [...seen.values()];
}

/** The vars that point every handler at a local receiver at `url`. */
export function localSettings(url: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const s of allSettings()) {
    if (!s.local) continue;
    vars[s.name] = "path" in s.local ? `${url}${s.local.path}` : s.local.value;
  }
  return vars;
}
