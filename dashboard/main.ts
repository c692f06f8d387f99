// The dashboard: Preact components written with htm (tagged templates, so no JSX build step),
// one page per hash route. Everything it shows comes from the public HTTP API with the key the
// user signed in with.
import { html, render } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { loadSession, saveSession, signIn, type Session } from "./api.ts";
import { DeadLettersPage } from "./pages/dead-letters.ts";
import { EntityPage } from "./pages/entity.ts";
import { LivePage } from "./pages/live.ts";
import { OverviewPage } from "./pages/overview.ts";
import { SettingsPage } from "./pages/settings.ts";

const PAGES = [
  { path: "overview", title: "Overview" },
  { path: "live", title: "Live" },
  { path: "entity", title: "Entity" },
  { path: "dead-letters", title: "Dead letters" },
  { path: "settings", title: "Settings" },
] as const;

/** `#/entity?type=lead&id=L-1` → page "entity" and its parameters. */
function route(): { page: string; params: URLSearchParams } {
  const [path = "", query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  return { page: PAGES.some((p) => p.path === path) ? path : "overview", params: new URLSearchParams(query) };
}

function useRoute() {
  const [current, setCurrent] = useState(route());
  useEffect(() => {
    const onChange = () => setCurrent(route());
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return current;
}

function SignIn({ onSession }: { onSession: (s: Session) => void }) {
  const [key, setKey] = useState("");
  const [tenants, setTenants] = useState<string[] | null>(null);
  const [pending, setPending] = useState<Session | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const { session, tenants } = await signIn(key.trim());
      if (session.admin) {
        setPending(session);
        setTenants(tenants);
      } else onSession(session);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return html`<main class="signin">
    <h1>edgeflow</h1>
    <form onSubmit=${submit}>
      <label for="key">API key</label>
      <input id="key" name="key" type="password" autocomplete="off" placeholder="dev_demo_key" value=${key} onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)} required />
      <p class="hint">A tenant's API key, or the operator's admin key to pick a tenant. Locally: <code>dev_demo_key</code> or <code>dev_admin_key</code>.</p>
      <button type="submit">Sign in</button>
      ${error && html`<p role="alert" class="error">${error}</p>`}
    </form>
    ${pending &&
    html`<form class="tenants" onSubmit=${(e: Event) => e.preventDefault()}>
      <label for="tenant">Tenant</label>
      <select id="tenant" onChange=${(e: Event) => onSession({ ...pending, tenant: (e.target as HTMLSelectElement).value })}>
        <option value="">Choose a tenant…</option>
        ${["demo", ...(tenants ?? [])].map((t) => html`<option value=${t}>${t}</option>`)}
      </select>
    </form>`}
  </main>`;
}

function App() {
  const [session, setSession] = useState<Session | null>(loadSession());
  const { page, params } = useRoute();
  const use = (s: Session | null) => {
    saveSession(s);
    setSession(s);
  };
  if (!session) return html`<${SignIn} onSession=${use} />`;
  const tenant = session.tenant ?? "your tenant";
  return html`<div class="shell">
    <header>
      <span class="brand">edgeflow</span>
      <nav aria-label="Pages">
        ${PAGES.map((p) => html`<a href=${`#/${p.path}`} aria-current=${p.path === page ? "page" : undefined}>${p.title}</a>`)}
      </nav>
      <span class="who">${session.admin ? `operator, as ${tenant}` : "signed in with a tenant key"}</span>
      <button class="link" onClick=${() => use(null)}>Sign out</button>
    </header>
    <main>
      ${page === "overview" && html`<${OverviewPage} session=${session} />`}
      ${page === "live" && html`<${LivePage} session=${session} />`}
      ${page === "entity" && html`<${EntityPage} session=${session} type=${params.get("type") ?? "lead"} id=${params.get("id") ?? ""} />`}
      ${page === "dead-letters" && html`<${DeadLettersPage} session=${session} />`}
      ${page === "settings" && html`<${SettingsPage} session=${session} />`}
    </main>
  </div>`;
}

render(html`<${App} />`, document.getElementById("app")!);
