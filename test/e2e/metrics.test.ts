// GET /metrics scraped from a real server and read with a real Prometheus text parser.
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { ADMIN, call, newTenant } from "./control.ts";
import { serverWithReceiver, waitFor } from "./harness.ts";

const DEMO = "dev_demo_key";

const local = serverWithReceiver({ FOLLOW_UP_DELAY_MS: "600000", USAGE_ENDPOINT: "1" });


/**
 * One scrape, parsed. The parser folds every series of a histogram family into one (it loses their
 * labels), so histogram families are also read untyped: each `_bucket`, `_sum` and `_count` sample
 * then keeps its labels. `types` is the typed parse's family → type.
 */
async function scrape(key: string) {
  const response = await fetch(`${local.server.url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const types = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f.type]));
  return Object.assign(parsePrometheusTextFormat(text.replace(/^# TYPE \S+ histogram$/gm, "")), { types });
}

type Families = Awaited<ReturnType<typeof scrape>>;

/** Every sample named `name` (read untyped, a name's samples may come as several families). */
const samples = (families: Families, name: string) => families.filter((f) => f.name === name).flatMap((f) => f.metrics);

/** The value of the one sample of `name` whose labels include `labels` (0 when there is none). */
function value(families: Families, name: string, labels: Record<string, string>): number {
  const matching = samples(families, name).filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  expect(matching.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return Number(matching[0]?.value ?? 0);
}

const post = (key: string, body: unknown) =>
  fetch(`${local.server.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });

describe("GET /metrics", () => {
  it("counts events by type and outcome, deliveries and attempts by handler, dead letters and latency", async () => {
    const run = Date.now().toString(36);
    const before = await scrape(DEMO);
    const was = (name: string, labels: Record<string, string>) => value(before, name, labels);
    // The Slack call of the first event is refused for good: one dead letter.
    local.receiver.script(`evt-${run}-1:slack`, [{ status: 410 }]);
    const lead = (n: number) => ({ id: `evt-${run}-${n}`, type: "lead.created", data: { id: `M-${run}-${n}`, email: `m${n}@example.com`, name: `M ${n}` } });
    expect((await post(DEMO, lead(1))).status).toBe(202);
    expect((await post(DEMO, lead(2))).status).toBe(202);
    expect((await post(DEMO, lead(1))).status).toBe(200);
    expect((await post(DEMO, { ...lead(3), data: { id: `M-${run}-3`, email: "not-an-email" } })).status).toBe(400);
    expect((await post(DEMO, { type: "lead.deleted", data: { id: "x" } })).status).toBe(422);

    let now: Families = Object.assign([], { types: new Map<string, string>() }) as unknown as Families;
    await waitFor(
      async () => {
        now = await scrape(DEMO);
        const grew = (name: string, labels: Record<string, string>) => value(now, name, labels) - was(name, labels);
        return grew("edgeflow_deliveries_total", { handler: "slack", outcome: "dead" }) === 1 && grew("edgeflow_deliveries_total", { handler: "database", outcome: "succeeded" }) === 2;
      },
      "the deliveries to settle in the metrics",
      30_000,
      200,
    );
    const grew = (name: string, labels: Record<string, string>) => value(now, name, labels) - was(name, labels);
    const events = "edgeflow_events_received_total";
    expect(grew(events, { tenant: "demo", type: "lead.created", outcome: "accepted" })).toBe(2);
    expect(grew(events, { tenant: "demo", type: "lead.created", outcome: "duplicate" })).toBe(1);
    expect(grew(events, { tenant: "demo", type: "lead.created", outcome: "rejected", code: "invalid_event" })).toBe(1);
    // A type that is not registered is never a label value.
    expect(grew(events, { tenant: "demo", type: "unknown", outcome: "rejected", code: "unknown_event_type" })).toBe(1);
    expect(samples(now, events).some((m) => m.labels?.type === "lead.deleted")).toBe(false);

    expect(grew("edgeflow_deliveries_total", { handler: "slack", outcome: "succeeded" })).toBe(1);
    expect(grew("edgeflow_delivery_attempts_total", { handler: "slack", outcome: "dead" })).toBe(1);
    expect(value(now, "edgeflow_dead_letters_open", { tenant: "demo", handler: "slack" })).toBeGreaterThanOrEqual(1);

    expect(now.types.get("edgeflow_delivery_latency_seconds")).toBe("HISTOGRAM");
    const latency = { tenant: "demo", handler: "database" };
    const count = value(now, "edgeflow_delivery_latency_seconds_count", latency);
    expect(count - was("edgeflow_delivery_latency_seconds_count", latency)).toBe(2);
    expect(value(now, "edgeflow_delivery_latency_seconds_bucket", { ...latency, le: "+Inf" })).toBe(count);
    // Cumulative buckets never decrease.
    const buckets = samples(now, "edgeflow_delivery_latency_seconds_bucket").filter((m) => m.labels?.handler === "database" && m.labels?.tenant === "demo");
    const counts = buckets.map((m) => Number(m.value));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(value(now, "edgeflow_delivery_latency_seconds_sum", latency)).toBeGreaterThan(0);
    expect(now.types.get("edgeflow_queue_backlog")).toBe("GAUGE");
    expect(now.types.get("edgeflow_events_received_total")).toBe("COUNTER");

    // The same numbers as JSON, for the dashboard's charts (its shape is checked against openapi.json).
    const summary = (await (await fetch(`${local.server.url}/v1/metrics`, { headers: { authorization: `Bearer ${DEMO}` } })).json()) as {
      deliveries: Record<string, Record<string, number>>;
      deadLettersOpen: Record<string, number>;
      latency: Record<string, { count: number; p50: number | null; p99: number | null }>;
      minutes: Array<{ byType: Record<string, number> }>;
    };
    expect(summary.deliveries.slack?.dead).toBe(value(now, "edgeflow_deliveries_total", { handler: "slack", outcome: "dead" }));
    expect(summary.deadLettersOpen.slack).toBe(value(now, "edgeflow_dead_letters_open", { tenant: "demo", handler: "slack" }));
    expect(summary.latency.database!.count).toBe(count);
    expect(summary.latency.database!.p50!).toBeLessThanOrEqual(summary.latency.database!.p99!);
    expect(summary.minutes.reduce((n, m) => n + (m.byType["lead.created"] ?? 0), 0)).toBeGreaterThanOrEqual(2);
  });

  it("shows a tenant its own series only, and the operator every tenant's", async () => {
    const key = await newTenant(local.server.url, `met-${Date.now().toString(36)}`);
    const tenant = key.split("_")[1]!;
    expect((await post(key, { type: "lead.updated", data: { id: "M-own" } })).status).toBe(202);
    const tenantsIn = (families: Families) => new Set(families.flatMap((f) => f.metrics.map((m) => m.labels?.tenant)));

    const own = await scrape(key);
    expect([...tenantsIn(own)]).toEqual([tenant]);
    expect(value(own, "edgeflow_events_received_total", { type: "lead.updated", outcome: "accepted" })).toBe(1);
    expect(tenantsIn(await scrape(DEMO)).has(tenant)).toBe(false);
    const all = tenantsIn(await scrape(ADMIN));
    expect(all.has(tenant) && all.has("demo")).toBe(true);

    const refused = await fetch(`${local.server.url}/metrics`, { headers: { authorization: "Bearer nope" } });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: "unauthorized" } });
  });

  it("costs no Durable Object request or row write per event: counts reach the tenant's actor in batches", async () => {
    await fetch(`${local.server.url}/_usage`);
    const started = Date.now();
    const run = started.toString(36);
    const ids = Array.from({ length: 40 }, (_, i) => `B-${run}-${i}`);
    const sent = await fetch(`${local.server.url}/v1/events/batch`, {
      method: "POST",
      headers: { authorization: `Bearer ${DEMO}`, "content-type": "application/json" },
      body: JSON.stringify(ids.map((id) => ({ type: "lead.updated", data: { id, status: "warm" } }))),
    });
    expect(sent.status).toBe(207);
    const settled = async (id: string) => (await call<{ deliveries: { pending: number } }>(local.server.url, DEMO, "GET", `/v1/entities/lead/${id}`)).body.deliveries.pending === 0;
    await waitFor(async () => (await Promise.all(ids.map(settled))).every(Boolean), "every delivery to settle", 30_000, 200);
    const usage = (await (await fetch(`${local.server.url}/_usage`)).json()) as Record<string, number>;
    // 40 entities, each with its requests and alarms; the counts of all of them leave this
    // (one, local) isolate in at most one flush per 10 s, however long the run took.
    const flushes = 1 + Math.ceil((Date.now() - started) / 10_000);
    expect(usage.entityRequests).toBeGreaterThanOrEqual(80);
    expect(usage.metricsRequests).toBeLessThanOrEqual(flushes);
    expect(usage.metricsRowsWritten).toBeLessThanOrEqual(flushes);
    // The counts' own requests are metered apart (metricsRequests, above). The tenant actor's
    // other requests (registrations, configuration lookups, work left by the file's earlier tests)
    // are not the counts' and vary with the machine's load, so they are not bounded here: two runs
    // of the suite side by side saw 45 to 55 for 40 entities.
  });
});
