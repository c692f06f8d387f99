// Live: accepted events and delivery outcomes as they happen, over GET /v1/live (a WebSocket on
// the tenant's actor), plus a form to send an event.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { LIVE_PROTOCOL } from "../../src/types.ts";
import { api, liveTicket, type LiveMessage, type Session } from "../api.ts";
import { clock, entityHref } from "../format.ts";

const KEPT = 200;
const EXAMPLE = JSON.stringify({ type: "lead.created", data: { id: "L-1", email: "ada@example.com", name: "Ada Lovelace" } }, null, 2);

export function LivePage({ session }: { session: Session }) {
  const [messages, setMessages] = useState<LiveMessage[]>([]);
  const [state, setState] = useState<"connecting" | "live" | "closed">("connecting");
  useEffect(() => {
    let socket: WebSocket | null = null;
    let stopped = false;
    let retry: number | undefined;
    const connect = async () => {
      // A fresh single-use ticket each time: the key itself never travels in a WebSocket header.
      let ticket: string;
      try {
        ticket = await liveTicket(session);
      } catch {
        setState("closed");
        if (!stopped) retry = window.setTimeout(() => void connect(), 2000);
        return;
      }
      if (stopped) return;
      socket = new WebSocket(`${location.origin.replace(/^http/, "ws")}/v1/live`, [LIVE_PROTOCOL, `ticket.${ticket}`]);
      socket.onopen = () => setState("live");
      socket.onmessage = (m) => {
        if (m.data === "pong") return;
        const message = JSON.parse(String(m.data)) as LiveMessage;
        setMessages((list) => [message, ...list].slice(0, KEPT));
      };
      socket.onclose = () => {
        setState("closed");
        if (!stopped) retry = window.setTimeout(() => void connect(), 2000);
      };
    };
    void connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      socket?.close();
    };
  }, [session]);

  return html`<section>
    <h1>Live <span class="badge ${state}" role="status">${state}</span></h1>
    <div class="two feed-layout">
      <div>
        <table class="feed" aria-label="Live feed">
          <thead><tr><th>Time</th><th>Kind</th><th>What</th><th>Entity</th><th>Status</th></tr></thead>
          <tbody>
            ${messages.length === 0 && html`<tr><td colspan="5" class="muted">Waiting for events…</td></tr>`}
            ${messages.map(
              (m) => html`<tr class=${`row-${m.kind}`}>
                <td>${clock(m.at)}</td>
                <td>${m.kind}</td>
                <td>${m.kind === "event" ? html`<code>${m.type}</code> <span class="muted">${m.id}</span>` : html`<code>${m.handler}</code> attempt ${m.attempt}, ${m.durationMs} ms`}</td>
                <td><a href=${entityHref(m.entity.type, m.entity.id)}>${m.entity.type}/${m.entity.id}</a></td>
                <td><span class="status ${m.status}">${m.status}</span>${m.kind === "delivery" && m.error ? html` <span class="muted">${m.error}</span>` : ""}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <${SendEvent} session=${session} />
    </div>
  </section>`;
}

function SendEvent({ session }: { session: Session }) {
  const [text, setText] = useState(EXAMPLE);
  const [result, setResult] = useState<string | null>(null);
  const send = async (e: Event) => {
    e.preventDefault();
    try {
      const answer = await api(session).postEvent({ body: JSON.parse(text) });
      setResult(`${answer.status}: ${answer.id}`);
    } catch (err) {
      setResult(err instanceof Error ? err.message : String(err));
    }
  };
  return html`<form class="card" onSubmit=${send}>
    <label for="event">Send an event</label>
    <textarea id="event" rows="9" spellcheck="false" value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}></textarea>
    <button type="submit">Send</button>
    ${result && html`<p role="status">${result}</p>`}
  </form>`;
}
