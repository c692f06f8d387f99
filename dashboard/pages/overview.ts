// Overview: events per minute by type, deliveries by handler and outcome, open dead letters, and
// ingest-to-delivery latency per handler, as charts (Chart.js) over GET /v1/metrics.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type ChartConfiguration } from "chart.js";
import { api, type MetricsSummary, type Session } from "../api.ts";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

const COLORS = ["#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];
const OUTCOME_COLORS: Record<string, string> = { succeeded: "#16a34a", skipped: "#9ca3af", dead: "#dc2626" };

function ChartBox({ label, config }: { label: string; config: ChartConfiguration<"bar"> }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const chart = new Chart(canvas.current!, config);
    return () => chart.destroy();
  }, [JSON.stringify(config.data)]);
  return html`<figure class="card chart"><figcaption>${label}</figcaption><canvas ref=${canvas} role="img" aria-label=${label}></canvas></figure>`;
}

/** A bar chart; counts get whole-number ticks. */
const bar = (labels: string[], datasets: Array<{ label: string; data: number[]; backgroundColor: string }>, stacked: boolean, counts = true): ChartConfiguration<"bar"> => ({
  type: "bar",
  data: { labels, datasets },
  options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { x: { stacked }, y: { stacked, beginAtZero: true, ticks: counts ? { precision: 0 } : {} } }, plugins: { legend: { position: "bottom" } } },
});

export function OverviewPage({ session }: { session: Session }) {
  const [metrics, setMetrics] = useState<MetricsSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const load = () =>
      api(session).metricsSummary()
        .then((m) => (setMetrics(m), setError(null)))
        .catch((err: unknown) => setError(String(err)));
    void load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, [session]);
  if (error) return html`<p role="alert" class="error">${error}</p>`;
  if (!metrics) return html`<p class="muted">Loading…</p>`;

  const types = [...new Set(metrics.minutes.flatMap((m) => Object.keys(m.byType)))].sort();
  const minuteLabels = metrics.minutes.map((m) => new Date(m.minute).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", hour12: false }));
  const handlers = Object.keys(metrics.deliveries).sort();
  const outcomes = [...new Set(Object.values(metrics.deliveries).flatMap((o) => Object.keys(o)))].sort();
  const latencyHandlers = Object.keys(metrics.latency).sort();
  const open = Object.values(metrics.deadLettersOpen).reduce((a, b) => a + b, 0);

  return html`<section>
    <h1>Overview</h1>
    <div class="tiles">
      <a class="card tile" href="#/dead-letters"><span class="big ${open > 0 ? "bad" : ""}">${open}</span> open dead letters</a>
      <div class="card tile"><span class="big">${metrics.minutes.reduce((n, m) => n + Object.values(m.byType).reduce((a, b) => a + b, 0), 0)}</span> events accepted in the last hour</div>
      <div class="card tile"><span class="big">${Object.values(metrics.deliveries).reduce((n, o) => n + (o.succeeded ?? 0), 0)}</span> deliveries succeeded</div>
    </div>
    <div class="charts">
      <${ChartBox} label="Events per minute, by type" config=${bar(minuteLabels, types.map((t, i) => ({ label: t, data: metrics.minutes.map((m) => m.byType[t] ?? 0), backgroundColor: COLORS[i % COLORS.length]! })), true)} />
      <${ChartBox} label="Deliveries by handler and outcome" config=${bar(handlers, outcomes.map((o, i) => ({ label: o, data: handlers.map((h) => metrics.deliveries[h]?.[o] ?? 0), backgroundColor: OUTCOME_COLORS[o] ?? COLORS[i % COLORS.length]! })), true)} />
      <${ChartBox}
        label="Ingest-to-delivery latency (seconds), p50 and p99"
        config=${bar(latencyHandlers, [
          { label: "p50", data: latencyHandlers.map((h) => metrics.latency[h]!.p50 ?? 0), backgroundColor: "#2563eb" },
          { label: "p99", data: latencyHandlers.map((h) => metrics.latency[h]!.p99 ?? 0), backgroundColor: "#d97706" },
        ], false, false)}
      />
      ${open === 0
        ? html`<figure class="card chart"><figcaption>Open dead letters by handler</figcaption><p class="muted">None: every delivery succeeded or was skipped.</p></figure>`
        : html`<${ChartBox} label="Open dead letters by handler" config=${bar(Object.keys(metrics.deadLettersOpen), [{ label: "open", data: Object.values(metrics.deadLettersOpen), backgroundColor: "#dc2626" }], false)} />`}
    </div>
  </section>`;
}
