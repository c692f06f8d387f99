// Dead letters: filter by handler and entity; replay one, a selection, or all that match, with
// progress.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { api, type DeadLetter, type DeadLetterPage, type Session } from "../api.ts";
import { entityHref, when } from "../format.ts";

const CHUNK = 20;

export function DeadLettersPage({ session }: { session: Session }) {
  const [letters, setLetters] = useState<DeadLetter[]>([]);
  const [handler, setHandler] = useState("");
  const [entity, setEntity] = useState("");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const load = async () => {
    const all: DeadLetter[] = [];
    let cursor: string | null = "0";
    while (cursor !== null) {
      const page: DeadLetterPage = await api(session).listDeadLetters({ query: { limit: 500, cursor } });
      all.push(...page.deadLetters);
      cursor = page.next;
    }
    setLetters(all);
  };
  useEffect(() => {
    void load();
  }, [session]);

  const shown = letters.filter((d) => (!handler || d.handler === handler) && (!entity || `${d.entity.type}/${d.entity.id}`.includes(entity)));
  const handlers = [...new Set(letters.map((d) => d.handler))].sort();

  const replay = async (ids: string[]) => {
    setMessage(null);
    setProgress({ done: 0, total: ids.length });
    let replayed = 0;
    for (let i = 0; i < ids.length; i += CHUNK) {
      replayed += (await api(session).replayDeadLetters({ body: { ids: ids.slice(i, i + CHUNK) } })).replayed;
      setProgress({ done: Math.min(ids.length, i + CHUNK), total: ids.length });
    }
    setProgress(null);
    setSelected(new Set());
    setMessage(`Replayed ${replayed} of ${ids.length}; they are retried now.`);
    await load();
  };
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };

  return html`<section>
    <h1>Dead letters <span class="count">${letters.length}</span></h1>
    <form class="search" onSubmit=${(e: Event) => e.preventDefault()}>
      <label for="dlhandler">Handler</label>
      <select id="dlhandler" value=${handler} onChange=${(e: Event) => setHandler((e.target as HTMLSelectElement).value)}>
        <option value="">All handlers</option>
        ${handlers.map((h) => html`<option value=${h}>${h}</option>`)}
      </select>
      <label for="dlentity">Entity</label>
      <input id="dlentity" placeholder="lead/L-1" value=${entity} onInput=${(e: Event) => setEntity((e.target as HTMLInputElement).value)} />
      <button type="button" onClick=${() => load()}>Refresh</button>
      <button type="button" disabled=${selected.size === 0 || progress !== null} onClick=${() => replay([...selected])}>Replay selected (${selected.size})</button>
      <button type="button" disabled=${shown.length === 0 || progress !== null} onClick=${() => replay(shown.map((d) => d.id))}>Replay all shown (${shown.length})</button>
    </form>
    ${progress && html`<label class="progress">Replaying <progress max=${progress.total} value=${progress.done}></progress> ${progress.done}/${progress.total}</label>`}
    ${message && html`<p role="status">${message}</p>`}
    <table aria-label="Dead letters">
      <thead><tr><th><span class="sr-only">Select</span></th><th>Handler</th><th>Entity</th><th>Event</th><th>Attempts</th><th>Dead at</th><th>Last error</th><th></th></tr></thead>
      <tbody>
        ${shown.length === 0 && html`<tr><td colspan="8" class="muted">No dead letters.</td></tr>`}
        ${shown.map(
          (d) => html`<tr>
            <td><input type="checkbox" aria-label=${`Select ${d.id}`} checked=${selected.has(d.id)} onChange=${() => toggle(d.id)} /></td>
            <td><code>${d.handler}</code></td>
            <td><a href=${entityHref(d.entity.type, d.entity.id)}>${d.entity.type}/${d.entity.id}</a></td>
            <td class="muted">${d.eventId}</td>
            <td>${d.attempts}</td>
            <td>${when(d.deadAt)}</td>
            <td class="error">${(d.lastError ?? "").slice(0, 80)}</td>
            <td><button type="button" onClick=${() => replay([d.id])} aria-label=${`Replay ${d.id}`}>Replay</button></td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
