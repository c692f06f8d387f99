// Entity: search by type and id; the state, and the log as a timeline where each event shows
// every delivery with its status, attempts, error and times; pause, resume, export and erase.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type EntityView, type EventPage, type EventView, type Session } from "../api.ts";
import { entityHref, when } from "../format.ts";

export function EntityPage({ session, type, id }: { session: Session; type: string; id: string }) {
  const [form, setForm] = useState({ type, id });
  const [entity, setEntity] = useState<EntityView | null>(null);
  const [events, setEvents] = useState<EventView[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = async () => {
    if (!id) return;
    try {
      const view = await api(session).getEntity({ type, id });
      const all: EventView[] = [];
      let after: string | null = "0";
      while (after !== null) {
        const page: EventPage = await api(session).getEntityEvents({ type, id, query: { after: Number(after), limit: 500 } });
        all.push(...page.events);
        after = page.next;
      }
      setEntity(view);
      setEvents(all);
      setError(null);
    } catch (err) {
      setEntity(null);
      setEvents([]);
      setError(err instanceof ApiError && err.status === 404 ? `No entity ${type}/${id}` : err instanceof ApiError && err.status === 410 ? `${type}/${id} was erased` : String(err));
    }
  };
  const [notice, setNotice] = useState<string | null>(null);
  const act = (what: () => Promise<string>) => () =>
    what()
      .then(async (m) => (setNotice(m), await load()))
      .catch((err: unknown) => setNotice(err instanceof Error ? err.message : String(err)));
  const pause = act(async () => `Paused: ${(await api(session).pauseEntity({ type, id, body: {} })).paused.join(", ")}.`);
  const resume = act(async () => ((await api(session).resumeEntity({ type, id, body: {} })).paused.length === 0 ? "Resumed: held deliveries drain in order." : "Some handlers stay paused."));
  const exportJson = act(async () => {
    const document = await api(session).exportEntity({ type, id });
    const link = downloadLink(`${type}-${id}.json`, JSON.stringify(document, null, 2));
    link.click();
    return `Exported ${type}/${id}.`;
  });
  const [redeliver, setRedeliver] = useState({ handler: "", fromSeq: "1" });
  const replay = act(async () => {
    const handler = redeliver.handler.trim();
    if (!handler) return "Name the handler to deliver to again.";
    const { replayed } = await api(session).replayEntity({ type, id, body: { handler, fromSeq: Number(redeliver.fromSeq) || 1 } });
    return `${replayed} event(s) go to ${handler} again, in order, marked Edgeflow-Replay.`;
  });
  const erase = act(async () => {
    if (!window.confirm(`Erase ${type}/${id} for good? Its events, deliveries, D1 rows and dead letters go, and it takes no event again.`)) return "Not erased.";
    await api(session).deleteEntity({ type, id });
    return `Erased ${type}/${id}.`;
  });
  useEffect(() => {
    setForm({ type, id });
    void load();
    // Deliveries settle after the page opens: keep the view current while it is shown.
    const timer = setInterval(load, 2000);
    return () => clearInterval(timer);
  }, [session, type, id]);

  return html`<section>
    <h1>Entity</h1>
    <form class="search" role="search" onSubmit=${(e: Event) => {
      e.preventDefault();
      location.hash = entityHref(form.type.trim(), form.id.trim());
    }}>
      <label for="etype">Type</label>
      <input id="etype" value=${form.type} onInput=${(e: Event) => setForm({ ...form, type: (e.target as HTMLInputElement).value })} />
      <label for="eid">Id</label>
      <input id="eid" value=${form.id} placeholder="L-1" onInput=${(e: Event) => setForm({ ...form, id: (e.target as HTMLInputElement).value })} required />
      <button type="submit">Open</button>
    </form>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${notice && html`<p role="status" class="notice">${notice}</p>`}
    ${entity &&
    html`<div class="two">
      <div class="card">
        <h2>${entity.entity.type}/${entity.entity.id}</h2>
        <dl>
          <dt>Version</dt><dd>${entity.version}</dd>
          <dt>Created</dt><dd>${when(entity.createdAt)}</dd>
          <dt>Updated</dt><dd>${when(entity.updatedAt)}</dd>
          <dt>Deliveries</dt><dd>${Object.entries(entity.deliveries).map(([k, v]) => html`<span class="status ${k}">${v} ${k}</span> `)}</dd>
        </dl>
        <div class="actions">
          <button type="button" onClick=${pause}>Pause</button>
          <button type="button" onClick=${resume}>Resume</button>
          <button type="button" onClick=${exportJson}>Export JSON</button>
          <button type="button" class="danger" onClick=${erase}>Erase</button>
        </div>
        <form class="inline" aria-label="Deliver again" onSubmit=${(e: Event) => (e.preventDefault(), replay())}>
          <label for="rhandler">Deliver again to</label>
          <input id="rhandler" placeholder="slack, endpoint:ep_…" list="handler-names" value=${redeliver.handler} onInput=${(e: Event) => setRedeliver({ ...redeliver, handler: (e.target as HTMLInputElement).value })} />
          <datalist id="handler-names">${[...new Set(events.flatMap((ev) => ev.deliveries.map((d) => d.handler)))].map((h) => html`<option value=${h}></option>`)}</datalist>
          <label for="rfrom">from #</label>
          <input id="rfrom" type="number" min="1" value=${redeliver.fromSeq} onInput=${(e: Event) => setRedeliver({ ...redeliver, fromSeq: (e.target as HTMLInputElement).value })} />
          <button type="submit">Redeliver</button>
        </form>
        ${entity.events.compacted > 0 && html`<p class="muted">${entity.events.compacted} older event(s) compacted away by retention.</p>`}
        <h3>State</h3>
        <pre>${JSON.stringify(entity.state, null, 2)}</pre>
      </div>
      <ol class="timeline" aria-label="Event log">
        ${events.map(
          (e) => html`<li>
            <div class="event"><strong>#${e.seq}</strong> <code>${e.type}</code> <span class="muted">${e.id} · received ${when(e.receivedAt)}</span></div>
            <ul class="deliveries">
              ${e.deliveries.map(
                (d) => html`<li class="delivery">
                  <code>${d.handler}</code>
                  <span class="status ${d.status}">${d.status}</span>
                  <span>${d.attempts} attempt${d.attempts === 1 ? "" : "s"}</span>
                  <span class="muted">${d.completedAt ? `at ${when(d.completedAt)}` : d.nextAttemptAt ? `next try ${when(d.nextAttemptAt)}` : ""}</span>
                  ${d.lastError && (d.status === "succeeded" ? html`<span class="muted">after an earlier failure: ${d.lastError}</span>` : html`<span class="error">${d.lastError}</span>`)}
                </li>`,
              )}
            </ul>
          </li>`,
        )}
      </ol>
    </div>`}
  </section>`;
}

/** A link that saves `text` as a file named `name` (the export), not yet clicked. */
function downloadLink(name: string, text: string): HTMLAnchorElement {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  link.download = name;
  return link;
}
