// Settings: the tenant's destinations, webhook endpoints and signed sources (its own key
// suffices) and its API keys (the operator's admin key only: keys are the admin API's).
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { api, type Answered, type ApiKeyInfo, type EndpointAnswer, type Session } from "../api.ts";
import type { ScheduleAnswer } from "../../src/control/schedules.ts";
import type { BackfillAnswer } from "../../src/control/backfills.ts";
import type { SettingsPatch, TenantSettings } from "../../src/control/settings.ts";
import type { StoredSource } from "../../src/control/model.ts";
import type { KindForm } from "../../scripts/lib/registry.ts";
import { SCHEME_NAMES } from "../../src/sources/schemes.ts";
import { when } from "../format.ts";

type Endpoint = EndpointAnswer;
type Key = Answered<ApiKeyInfo>;

const value = (e: Event) => (e.target as HTMLInputElement).value;

export function SettingsPage({ session }: { session: Session }) {
  const [message, setMessage] = useState<string | null>(null);
  const run = (what: () => Promise<string | void>) => () =>
    what()
      .then((m) => setMessage(m ?? null))
      .catch((err: unknown) => setMessage(err instanceof Error ? err.message : String(err)));
  return html`<section>
    <h1>Settings</h1>
    ${message && html`<p role="status" class="notice">${message}</p>`}
    <div class="two">
      <${Destinations} session=${session} run=${run} />
      <${Endpoints} session=${session} run=${run} />
    </div>
    <div class="two">
      <${Sources} session=${session} run=${run} />
      <${Keys} session=${session} run=${run} />
    </div>
    <${Schedules} session=${session} run=${run} />
    <div class="two">
      <${Backfills} session=${session} run=${run} />
      <${Settings} session=${session} run=${run} />
    </div>
  </section>`;
}

type Run = (what: () => Promise<string | void>) => () => void;

/** The destination kinds, from the handler registry (src/handlers/kinds.ts), put here by the build. */
declare const EDGEFLOW_KINDS: KindForm[];

function Destinations({ session, run }: { session: Session; run: Run }) {
  const [list, setList] = useState<Record<string, Record<string, unknown>>>({});
  const [form, setForm] = useState<{ kind: string; values: Record<string, string> }>({ kind: EDGEFLOW_KINDS[0]!.kind, values: {} });
  const kind = EDGEFLOW_KINDS.find((k) => k.kind === form.kind) ?? EDGEFLOW_KINDS[0]!;
  const load = () => api(session).getDestinations().then((d) => setList(d.destinations));
  useEffect(() => void load(), [session]);
  const save = run(async () => {
    const body = { ...Object.fromEntries(kind.fields.flatMap((f) => (form.values[f.name] ? [[f.name, form.values[f.name]]] : []))), ...limitsOf(form.values) };
    await api(session).putDestination({ kind: kind.kind, body });
    // The form held secrets: they leave the page once saved.
    setForm({ kind: kind.kind, values: {} });
    await load();
    return `Saved the ${kind.kind} destination.`;
  });
  return html`<div class="card">
    <h2>Destinations</h2>
    <table aria-label="Destinations">
      <thead><tr><th>Kind</th><th>Settings (secrets masked)</th><th></th></tr></thead>
      <tbody>
        ${Object.keys(list).length === 0 && html`<tr><td colspan="3" class="muted">None of its own.</td></tr>`}
        ${Object.entries(list).map(
          ([name, d]) => html`<tr><td>${name}</td><td>${Object.entries(d).map(([k, v]) => html`<div><span class="muted">${k}</span> ${shown(v)}</div>`)}</td>
            <td><button type="button" aria-label=${`Delete ${name}`} onClick=${run(async () => (await api(session).deleteDestination({ kind: name }), await load(), `Deleted ${name}.`))}>Delete</button></td></tr>`,
        )}
      </tbody>
    </table>
    <form onSubmit=${(e: Event) => (e.preventDefault(), save())}>
      <label for="dkind">Kind</label>
      <select id="dkind" value=${kind.kind} onChange=${(e: Event) => setForm({ kind: value(e), values: {} })}>${EDGEFLOW_KINDS.map((k) => html`<option value=${k.kind}>${k.kind}</option>`)}</select>
      <p class="muted">${kind.summary}</p>
      ${kind.fields.map(
        (f) => html`<label for=${`d-${f.name}`}>${f.label}</label>
          <input id=${`d-${f.name}`} type=${f.type === "url" ? "url" : f.secret ? "password" : "text"} autocomplete="off" required=${f.required}
            value=${form.values[f.name] ?? ""} onInput=${(e: Event) => setForm({ kind: kind.kind, values: { ...form.values, [f.name]: value(e) } })} />`,
      )}
      ${limitInputs("d", form.values, (values) => setForm({ kind: kind.kind, values: { ...form.values, ...values } }))}
      <button type="submit">Save destination</button>
    </form>
  </div>`;
}

function Endpoints({ session, run }: { session: Session; run: Run }) {
  const [list, setList] = useState<Endpoint[]>([]);
  const [form, setForm] = useState({ url: "", types: "", description: "", backfill: false, rate: "", concurrency: "" });
  const load = () => api(session).listEndpoints().then((d) => setList(d.endpoints));
  useEffect(() => void load(), [session]);
  const create = run(async () => {
    const body = {
      url: form.url,
      ...(form.types ? { eventTypes: form.types.split(",").map((t) => t.trim()) } : {}),
      ...(form.description ? { description: form.description } : {}),
      ...(form.backfill ? { backfill: true } : {}),
      ...limitsOf(form),
    };
    const created = await api(session).createEndpoint({ body });
    setForm({ url: "", types: "", description: "", backfill: false, rate: "", concurrency: "" });
    await load();
    const history = created.backfillId ? ` Its history is on its way: backfill ${created.backfillId} (Backfills, below).` : "";
    return `Created ${created.id}. Its signing secret, shown once: ${created.secret}.${history}`;
  });
  return html`<div class="card">
    <h2>Webhook endpoints</h2>
    <table aria-label="Endpoints">
      <thead><tr><th>URL</th><th>Event types</th><th>Health</th><th></th></tr></thead>
      <tbody>
        ${list.length === 0 && html`<tr><td colspan="4" class="muted">No endpoints.</td></tr>`}
        ${list.map(
          (e) => html`<tr><td>${e.url}<div class="muted">${e.id}${e.description ? ` · ${e.description}` : ""} · created ${when(e.createdAt)}</div></td><td>${e.eventTypes?.join(", ") ?? "all"}</td>
            <td><span class=${`status ${e.status === "disabled" ? "dead" : "succeeded"}`}>${e.status}</span>
              <div class="muted">${e.failingSince ? `failing since ${when(e.failingSince)}` : e.lastSuccessAt ? `last success ${when(e.lastSuccessAt)}` : "no call yet"}</div>
              ${(e.rateLimit || e.maxConcurrency) && html`<div class="muted">limit: ${[e.rateLimit ? `${e.rateLimit.perSecond}/s` : "", e.maxConcurrency ? `${e.maxConcurrency} at once` : ""].filter(Boolean).join(", ")}</div>`}</td>
            <td>
              ${e.status === "disabled" &&
              html`<button type="button" aria-label=${`Re-enable ${e.id}`} onClick=${run(async () => (await api(session).updateEndpoint({ id: e.id, body: { status: "active" } }), await load(), `Re-enabled ${e.id}: what it held is delivered in order.`))}>Re-enable</button>`}
              <button type="button" aria-label=${`Rotate secret of ${e.id}`} onClick=${run(async () => `New secret of ${e.id}, shown once: ${(await api(session).rotateEndpointSecret({ id: e.id })).secret}`)}>Rotate secret</button>
              <button type="button" aria-label=${`Delete ${e.id}`} onClick=${run(async () => (await api(session).deleteEndpoint({ id: e.id }), await load(), `Deleted ${e.id}.`))}>Delete</button>
            </td></tr>`,
        )}
      </tbody>
    </table>
    <form onSubmit=${(e: Event) => (e.preventDefault(), create())}>
      <label for="eurl">URL</label><input id="eurl" type="url" required value=${form.url} onInput=${(e: Event) => setForm({ ...form, url: value(e) })} />
      <label for="etypes">Event types (comma-separated; empty for all)</label><input id="etypes" value=${form.types} onInput=${(e: Event) => setForm({ ...form, types: value(e) })} />
      <label for="edesc">Description</label><input id="edesc" value=${form.description} onInput=${(e: Event) => setForm({ ...form, description: value(e) })} />
      <label class="check"><input id="ebackfill" type="checkbox" checked=${form.backfill} onChange=${(e: Event) => setForm({ ...form, backfill: (e.target as HTMLInputElement).checked })} /> Deliver each entity's history too, not only new events</label>
      ${limitInputs("e", form, (values) => setForm({ ...form, ...values }))}
      <button type="submit">Add endpoint</button>
    </form>
  </div>`;
}

function Sources({ session, run }: { session: Session; run: Run }) {
  const [list, setList] = useState<Record<string, StoredSource>>({});
  const [form, setForm] = useState({ name: "", scheme: SCHEME_NAMES[0] as string, secret: "", header: "" });
  const load = () => api(session).getSources().then((d) => setList(d.sources));
  useEffect(() => void load(), [session]);
  const save = run(async () => {
    const body = { scheme: form.scheme, secret: form.secret, ...(form.header ? { header: form.header } : {}) };
    await api(session).putSource({ name: form.name, body });
    // The form held a secret: it leaves the page once saved.
    setForm({ name: "", scheme: form.scheme, secret: "", header: "" });
    await load();
    return `Saved the source ${form.name}: providers post to /v1/sources/{tenant}/${form.name}.`;
  });
  return html`<div class="card">
    <h2>Signed sources</h2>
    <table aria-label="Sources">
      <thead><tr><th>Name</th><th>Scheme</th><th>Secret</th><th></th></tr></thead>
      <tbody>
        ${Object.keys(list).length === 0 && html`<tr><td colspan="4" class="muted">No sources.</td></tr>`}
        ${Object.entries(list).map(
          ([name, src]) => html`<tr><td>${name}${src.header ? html`<div class="muted">${src.header}</div>` : null}</td><td>${src.scheme}</td><td>${src.secret}</td>
            <td><button type="button" aria-label=${`Delete source ${name}`} onClick=${run(async () => (await api(session).deleteSource({ name }), await load(), `Deleted ${name}.`))}>Delete</button></td></tr>`,
        )}
      </tbody>
    </table>
    <form onSubmit=${(e: Event) => (e.preventDefault(), save())}>
      <label for="sname">Name</label><input id="sname" required pattern="[a-z0-9][a-z0-9_-]{0,63}" value=${form.name} onInput=${(e: Event) => setForm({ ...form, name: value(e) })} />
      <label for="sscheme">Scheme</label>
      <select id="sscheme" value=${form.scheme} onChange=${(e: Event) => setForm({ ...form, scheme: value(e) })}>${SCHEME_NAMES.map((k) => html`<option value=${k}>${k}</option>`)}</select>
      <label for="ssecret">Signing secret</label><input id="ssecret" type="password" autocomplete="off" required value=${form.secret} onInput=${(e: Event) => setForm({ ...form, secret: value(e) })} />
      ${form.scheme === "hmac-sha256" && html`<label for="sheader">Signature header</label><input id="sheader" placeholder="X-Signature" value=${form.header} onInput=${(e: Event) => setForm({ ...form, header: value(e) })} />`}
      <button type="submit">Save source</button>
    </form>
  </div>`;
}

function Keys({ session, run }: { session: Session; run: Run }) {
  const [list, setList] = useState<Key[] | null>(null);
  const [label, setLabel] = useState("");
  const tenant = session.tenant;
  const load = () =>
    session.admin && tenant
      ? api(session).listKeys({ name: tenant }).then((d) => setList(d.keys), () => setList(null))
      : Promise.resolve();
  useEffect(() => void load(), [session]);
  if (!session.admin) return html`<div class="card"><h2>API keys</h2><p class="muted">Keys are managed by the operator: sign in with the admin key to list, create or revoke them.</p></div>`;
  if (list === null || tenant === null) return html`<div class="card"><h2>API keys</h2><p class="muted">${tenant} is configured in TENANTS; its keys live in that secret.</p></div>`;
  return html`<div class="card">
    <h2>API keys of ${tenant}</h2>
    <table aria-label="API keys">
      <thead><tr><th>Id</th><th>Prefix</th><th>Label</th><th>Created</th><th></th></tr></thead>
      <tbody>
        ${list.map(
          (k) => html`<tr><td>${k.id}</td><td><code>${k.prefix}…</code></td><td>${k.label ?? ""}</td><td>${when(k.createdAt)}</td>
            <td><button type="button" aria-label=${`Revoke ${k.id}`} onClick=${run(async () => (await api(session).revokeKey({ name: tenant, id: k.id }), await load(), `Revoked ${k.id}.`))}>Revoke</button></td></tr>`,
        )}
      </tbody>
    </table>
    <form onSubmit=${(e: Event) => (e.preventDefault(), run(async () => {
      const created = await api(session).createKey({ name: tenant, body: label ? { label } : {} });
      await load();
      return `New key, shown once: ${created.key}`;
    })())}>
      <label for="klabel">Label</label><input id="klabel" value=${label} onInput=${(e: Event) => setLabel(value(e))} />
      <button type="submit">Create key</button>
    </form>
  </div>`;
}

/**
 * The tenant's schedules: each with when it fires next and why its last firing was refused, paused
 * or resumed in place; a new one from a cron (or a period), a type and its data.
 */
function Schedules({ session, run }: { session: Session; run: Run }) {
  const client = api(session);
  const [list, setList] = useState<ScheduleAnswer[]>([]);
  const [form, setForm] = useState({ when: "", timezone: "UTC", type: "lead.updated", data: '{"id":"L-1"}' });
  const load = () => client.listSchedules().then((d) => setList(d.schedules));
  useEffect(() => void load(), [session]);
  const create = run(async () => {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(form.data) as Record<string, unknown>;
    } catch {
      return "The data is not JSON.";
    }
    // A number alone is a period in seconds; anything else is a cron expression.
    const when = /^\d+$/.test(form.when.trim()) ? { everySeconds: Number(form.when.trim()) } : { cron: form.when.trim(), timezone: form.timezone };
    const created = await client.createSchedule({ body: { ...when, event: { type: form.type, data } } });
    await load();
    return `Created ${created.id}; it fires next at ${created.nextAt ?? "never"}.`;
  });
  const toggle = (s: ScheduleAnswer) => run(async () => (await client.updateSchedule({ id: s.id, body: { paused: !s.paused } }), await load(), `${s.paused ? "Resumed" : "Paused"} ${s.id}.`));
  return html`<div class="card">
    <h2>Schedules</h2>
    <table aria-label="Schedules">
      <thead><tr><th>When</th><th>Event</th><th>Next</th><th>Last error</th><th></th></tr></thead>
      <tbody>
        ${list.length === 0 && html`<tr><td colspan="5" class="muted">No schedules.</td></tr>`}
        ${list.map(
          (s) => html`<tr><td>${s.cron ? `${s.cron} (${s.timezone})` : `every ${s.everySeconds} s`}<div class="muted">${s.name ?? s.id}</div></td>
            <td>${s.event.type} ${String(s.event.data.id)}</td><td>${s.paused ? "paused" : when(s.nextAt)}</td><td>${s.lastError ?? ""}</td>
            <td><button type="button" aria-label=${`${s.paused ? "Resume" : "Pause"} schedule ${s.id}`} onClick=${toggle(s)}>${s.paused ? "Resume" : "Pause"}</button>
            <button type="button" aria-label=${`Delete schedule ${s.id}`} onClick=${run(async () => (await client.deleteSchedule({ id: s.id }), await load(), `Deleted ${s.id}.`))}>Delete</button></td></tr>`,
        )}
      </tbody>
    </table>
    <form onSubmit=${(e: Event) => (e.preventDefault(), create())}>
      <label for="swhen">Cron (5 or 6 fields) or seconds between firings</label><input id="swhen" required placeholder="0 9 * * 1-5" value=${form.when} onInput=${(e: Event) => setForm({ ...form, when: value(e) })} />
      <label for="stz">Time zone</label><input id="stz" value=${form.timezone} onInput=${(e: Event) => setForm({ ...form, timezone: value(e) })} />
      <label for="stype">Event type</label><input id="stype" required value=${form.type} onInput=${(e: Event) => setForm({ ...form, type: value(e) })} />
      <label for="sdata">Event data (JSON, naming its entity)</label><input id="sdata" required value=${form.data} onInput=${(e: Event) => setForm({ ...form, data: value(e) })} />
      <button type="submit">Create schedule</button>
    </form>
  </div>`;
}

/** How often the Backfills card reads progress while one runs. */
const BACKFILL_POLL_MS = 1_000;

/**
 * Backfills: a handler's history delivered again across every entity, each with its progress
 * (entities walked of those listed, events handed over), read every second while one runs.
 */
function Backfills({ session, run }: { session: Session; run: Run }) {
  const client = api(session);
  const [list, setList] = useState<BackfillAnswer[]>([]);
  const [handlers, setHandlers] = useState<string[]>([]);
  const [form, setForm] = useState({ handler: "", types: "", since: "" });
  const load = () => client.listBackfills().then((d) => setList(d.backfills));
  useEffect(() => {
    void load();
    void client.listHandlers().then((d) => setHandlers(d.handlers.map((h) => h.name)));
  }, [session]);
  const running = list.some((b) => b.status === "running");
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => void load(), BACKFILL_POLL_MS);
    return () => clearInterval(timer);
  }, [running, session]);
  const start = run(async () => {
    const handler = form.handler || handlers[0];
    if (!handler) return "No handler to backfill.";
    const started = await client.createBackfill({
      body: {
        handler,
        ...(form.types ? { eventTypes: form.types.split(",").map((t) => t.trim()) } : {}),
        ...(form.since ? { since: new Date(form.since).toISOString() } : {}),
      },
    });
    await load();
    return `Started ${started.id} for ${handler}.`;
  });
  return html`<div class="card">
    <h2>Backfills</h2>
    <table aria-label="Backfills">
      <thead><tr><th>Handler</th><th>Progress</th><th>Events</th><th>Started</th></tr></thead>
      <tbody>
        ${list.length === 0 && html`<tr><td colspan="4" class="muted">No backfills.</td></tr>`}
        ${list.map(
          (b) => html`<tr><td>${b.handler}<div class="muted">${b.id}${b.eventTypes ? ` · ${b.eventTypes.join(", ")}` : ""}</div></td>
            <td><progress max=${Math.max(1, b.entities.total)} value=${b.entities.done} aria-label=${`Progress of ${b.id}`}></progress>
              <div class="muted">${b.status === "done" ? "done" : "running"}: ${b.entities.done} of ${b.entities.total} entities</div></td>
            <td>${b.events}</td><td>${when(b.createdAt)}</td></tr>`,
        )}
      </tbody>
    </table>
    <form onSubmit=${(e: Event) => (e.preventDefault(), start())}>
      <label for="bhandler">Handler</label>
      <select id="bhandler" value=${form.handler || handlers[0]} onChange=${(e: Event) => setForm({ ...form, handler: value(e) })}>
        ${handlers.map((h) => html`<option value=${h}>${h}</option>`)}
      </select>
      <label for="btypes">Only these event types (comma-separated; empty: all it takes)</label><input id="btypes" value=${form.types} onInput=${(e: Event) => setForm({ ...form, types: value(e) })} />
      <label for="bsince">Events that occurred since</label><input id="bsince" type="datetime-local" value=${form.since} onInput=${(e: Event) => setForm({ ...form, since: value(e) })} />
      <button type="submit">Start backfill</button>
    </form>
  </div>`;
}

/** A tenant setting's field, from its declaration (src/control/settings.ts), put here by the build. */
interface SettingForm {
  group: string;
  field: string;
  kind: "limit" | "flag";
  label: string;
  min?: number;
  max?: number;
}
declare const EDGEFLOW_SETTINGS: SettingForm[];

type SettingsDocument = Record<string, Record<string, number | boolean | null>>;

/** The tenant's settings (`/v1/settings`): a field per declared setting. */
function Settings({ session, run }: { session: Session; run: Run }) {
  const client = api(session);
  const key = (s: SettingForm) => `${s.group}.${s.field}`;
  const [form, setForm] = useState<Record<string, string | boolean>>({});
  const show = (saved: TenantSettings) => {
    // The answer is the settings document, a value per declared group and field.
    const doc = saved as unknown as SettingsDocument;
    setForm(Object.fromEntries(EDGEFLOW_SETTINGS.map((s) => [key(s), s.kind === "flag" ? doc[s.group]?.[s.field] === true : String(doc[s.group]?.[s.field] ?? "")])));
  };
  useEffect(() => void client.getSettings().then(show), [session]);
  const save = run(async () => {
    const body: SettingsDocument = {};
    for (const s of EDGEFLOW_SETTINGS) {
      const v = form[key(s)];
      (body[s.group] ??= {})[s.field] = s.kind === "flag" ? v === true : typeof v === "string" && v.trim() !== "" ? Number(v) : null;
    }
    // The same groups and fields the server declares.
    show(await client.updateSettings({ body: body as SettingsPatch }));
    return "Saved the settings.";
  });
  return html`<div class="card">
    <h2>Retention, erasure and the D1 mirror</h2>
    <p class="muted">Events past either retention window that every handler has settled are compacted away; the state stays, and their ids still count as duplicates.</p>
    <form onSubmit=${(e: Event) => (e.preventDefault(), save())}>
      ${EDGEFLOW_SETTINGS.map((s) =>
        s.kind === "flag"
          ? html`<label class="check"><input id=${`setting-${s.group}-${s.field}`} type="checkbox" checked=${form[key(s)] === true} onChange=${(e: Event) => setForm({ ...form, [key(s)]: (e.target as HTMLInputElement).checked })} /> ${s.label}</label>`
          : html`<label for=${`setting-${s.group}-${s.field}`}>${s.label}</label><input id=${`setting-${s.group}-${s.field}`} type="number" min=${s.min} max=${s.max} value=${form[key(s)] ?? ""} onInput=${(e: Event) => setForm({ ...form, [key(s)]: value(e) })} />`,
      )}
      <button type="submit">Save settings</button>
    </form>
  </div>`;
}

/** A destination's field as shown: objects (its limits) as JSON. */
const shown = (v: unknown) => (typeof v === "object" && v !== null ? JSON.stringify(v) : String(v));

/** Rate and concurrency limits from a form's `rate` and `concurrency` texts (empty: none). */
function limitsOf(values: { rate?: string; concurrency?: string }): { rateLimit?: { perSecond: number }; maxConcurrency?: number } {
  return {
    ...(values.rate ? { rateLimit: { perSecond: Number(values.rate) } } : {}),
    ...(values.concurrency ? { maxConcurrency: Number(values.concurrency) } : {}),
  };
}

/** The two limit inputs of a destination's or an endpoint's form. */
function limitInputs(prefix: string, values: { rate?: string; concurrency?: string }, set: (values: { rate: string; concurrency: string }) => void) {
  const current = { rate: values.rate ?? "", concurrency: values.concurrency ?? "" };
  return html`<div class="row">
    <div><label for=${`${prefix}-rate`}>Calls per second (empty: no limit)</label>
      <input id=${`${prefix}-rate`} type="number" min="0.01" step="any" value=${current.rate} onInput=${(e: Event) => set({ ...current, rate: value(e) })} /></div>
    <div><label for=${`${prefix}-concurrency`}>Calls at once (empty: no limit)</label>
      <input id=${`${prefix}-concurrency`} type="number" min="1" step="1" value=${current.concurrency} onInput=${(e: Event) => set({ ...current, concurrency: value(e) })} /></div>
  </div>`;
}
