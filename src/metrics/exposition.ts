// GET /metrics: the tenants' totals in Prometheus text exposition format (version 0.0.4). Every
// sample carries a `tenant` label; each family is written once, with its HELP and TYPE, whatever
// the number of tenants.
import { LATENCY_BUCKETS, seriesKey, type Counts } from "./counts.ts";

/** What the tenant actor answers a scrape with. */
export interface MetricsSnapshot {
  counts: Counts;
  /** Handler → open dead letters (read at the scrape, exact). */
  deadLettersOpen: Record<string, number>;
  /** The tenant's endpoints' health, read at the scrape (absent from a tenant actor of an earlier release). */
  endpoints?: Array<{ id: string; disabled: boolean; failingSince: number | null }>;
}

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const FAMILIES = {
  edgeflow_events_received_total: ["counter", "Events received, by type and outcome (accepted, duplicate, rejected with its error code)."],
  edgeflow_deliveries_total: ["counter", "Deliveries settled, by handler and outcome (succeeded, dead, skipped)."],
  edgeflow_delivery_attempts_total: ["counter", "Delivery attempts, by handler and outcome (succeeded, retry, dead, skipped)."],
  edgeflow_dead_letters_open: ["gauge", "Dead letters waiting for a replay, by handler."],
  edgeflow_endpoint_disabled: ["gauge", "1 while a customer endpoint is disabled (its deliveries held), by endpoint."],
  edgeflow_endpoint_failing_seconds: ["gauge", "How long a customer endpoint has failed every call (0 when its last call succeeded), by endpoint."],
  edgeflow_queue_messages_sent_total: ["counter", "Queue messages of slow work sent by entity actors."],
  edgeflow_queue_messages_acked_total: ["counter", "Queue messages of slow work acknowledged by the consumer."],
  edgeflow_queue_backlog: ["gauge", "Queue messages of slow work sent and not yet acknowledged."],
  edgeflow_delivery_latency_seconds: ["histogram", "Time from an event's arrival to its successful delivery, by handler."],
} as const;

type Family = keyof typeof FAMILIES;

/** Adds `tenant` as the first label of a stored series key. */
function withTenant(key: string, tenant: string): { family: string; line: string } {
  const brace = key.indexOf("{");
  const family = brace < 0 ? key : key.slice(0, brace);
  const tenantLabel = seriesKey("", { tenant }).slice(1, -1);
  const line = brace < 0 ? `${family}{${tenantLabel}}` : `${family}{${tenantLabel},${key.slice(brace + 1)}`;
  return { family, line };
}

const number = (n: number) => (Number.isInteger(n) ? String(n) : n.toPrecision(6).replace(/\.?0+$/, ""));

export function renderMetrics(tenants: ReadonlyArray<{ tenant: string; snapshot: MetricsSnapshot }>): string {
  const samples = new Map<Family, string[]>(Object.keys(FAMILIES).map((f) => [f as Family, []]));
  const add = (family: Family, line: string, value: number) => samples.get(family)!.push(`${line} ${number(value)}`);

  for (const { tenant, snapshot } of tenants) {
    const { counters, latency } = snapshot.counts;
    for (const [key, value] of Object.entries(counters)) {
      const { family, line } = withTenant(key, tenant);
      if (family in FAMILIES) add(family as Family, line, value);
    }
    for (const [handler, n] of Object.entries(snapshot.deadLettersOpen)) add("edgeflow_dead_letters_open", seriesKey("edgeflow_dead_letters_open", { tenant, handler }), n);
    for (const e of snapshot.endpoints ?? []) {
      add("edgeflow_endpoint_disabled", seriesKey("edgeflow_endpoint_disabled", { tenant, endpoint: e.id }), e.disabled ? 1 : 0);
      add("edgeflow_endpoint_failing_seconds", seriesKey("edgeflow_endpoint_failing_seconds", { tenant, endpoint: e.id }), e.failingSince === null ? 0 : Math.max(0, (Date.now() - e.failingSince) / 1000));
    }
    const sent = counters["edgeflow_queue_messages_sent_total"] ?? 0;
    const acked = counters["edgeflow_queue_messages_acked_total"] ?? 0;
    add("edgeflow_queue_backlog", seriesKey("edgeflow_queue_backlog", { tenant }), Math.max(0, sent - acked));
    for (const [handler, h] of Object.entries(latency)) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((bound, i) => {
        cumulative += h.buckets[i] ?? 0;
        add("edgeflow_delivery_latency_seconds", seriesKey("edgeflow_delivery_latency_seconds_bucket", { tenant, handler, le: String(bound) }), cumulative);
      });
      add("edgeflow_delivery_latency_seconds", seriesKey("edgeflow_delivery_latency_seconds_bucket", { tenant, handler, le: "+Inf" }), h.count);
      add("edgeflow_delivery_latency_seconds", seriesKey("edgeflow_delivery_latency_seconds_sum", { tenant, handler }), h.sum);
      add("edgeflow_delivery_latency_seconds", seriesKey("edgeflow_delivery_latency_seconds_count", { tenant, handler }), h.count);
    }
  }

  const out: string[] = [];
  for (const [family, [type, help]] of Object.entries(FAMILIES)) {
    const lines = samples.get(family as Family)!;
    if (lines.length === 0) continue;
    out.push(`# HELP ${family} ${help}`, `# TYPE ${family} ${type}`, ...lines);
  }
  return out.join("\n") + "\n";
}
