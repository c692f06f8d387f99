import type { IRequest } from "itty-router";
import { directory, tenantActor } from "../../rpc/actors.ts";
import { authenticate, isAdminKey, type AuthedRequest } from "../auth.ts";
import { tenants } from "../../control/tenants-config.ts";
import { CONTENT_TYPE, renderMetrics, type MetricsSnapshot } from "../../metrics/exposition.ts";
import type { MetricsSummary } from "../../types.ts";
import { flushMetrics } from "../../metrics/record.ts";
import { quantile } from "../../metrics/counts.ts";
import type { Handlers } from "../register.ts";
import type { metricRoutes } from "../../api/metrics.ts";

/**
 * `GET /metrics`: Prometheus text. A tenant's key sees its own series; the operator's admin key
 * sees every tenant's (stored and TENANTS). This isolate's unflushed counts go first, so what a
 * scrape shows lags only the counts other isolates have not flushed yet (at most 10 s while
 * they work).
 */
export async function getMetrics(request: IRequest, env: Cloudflare.Env): Promise<Response> {
  const names = !request.headers.has("edgeflow-tenant") && (await isAdminKey(request, env)) ? await everyTenant(env) : [await tenantOf(request, env)];
  const snapshots = await Promise.all(names.map(async (tenant) => ({ tenant, snapshot: await readMetrics(env, tenant) })));
  return new Response(renderMetrics(snapshots), { headers: { "content-type": CONTENT_TYPE } });
}

/** The tenant's totals, this isolate's unflushed counts included. */
async function readMetrics(env: Cloudflare.Env, tenant: string): Promise<MetricsSnapshot> {
  await flushMetrics(env, tenant, true);
  return tenantActor(env, tenant).metrics();
}

async function tenantOf(request: IRequest, env: Cloudflare.Env): Promise<string> {
  await authenticate(request, env);
  return (request as AuthedRequest).tenant;
}

async function everyTenant(env: Cloudflare.Env): Promise<string[]> {
  const stored = (await directory(env).list()).filter((t) => t.status === "active").map((t) => t.name);
  return [...new Set([...Object.keys(tenants(env).tenants), ...stored])].sort();
}

/**
 * `GET /v1/metrics`: the tenant's metrics as JSON for the dashboard's charts: events per minute
 * by type (the last hour), deliveries by handler and outcome, open dead letters, and latency
 * quantiles per handler (estimated from the histogram's buckets).
 */
export async function getMetricsSummary(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const { counts, deadLettersOpen } = await readMetrics(env, request.tenant);
  const deliveries: Record<string, Record<string, number>> = {};
  for (const [key, n] of Object.entries(counts.counters)) {
    const match = /^edgeflow_deliveries_total\{handler="([^"]*)",outcome="([^"]*)"\}$/.exec(key);
    if (match) (deliveries[match[1]!] ??= {})[match[2]!] = n;
  }
  const latency = Object.fromEntries(
    Object.entries(counts.latency).map(([handler, h]) => [handler, { count: h.count, p50: quantile(h, 0.5), p99: quantile(h, 0.99) }]),
  );
  const minutes = Object.entries(counts.minutes)
    .map(([minute, byType]) => ({ minute: new Date(Number(minute)).toISOString(), byType }))
    .sort((a, b) => a.minute.localeCompare(b.minute));
  const summary: MetricsSummary = { minutes, deliveries, deadLettersOpen, latency };
  return Response.json(summary);
}

/** This file's routes (src/api/metrics.ts), by name. */
export const metricHandlers = {
  prometheus: getMetrics,
  metricsSummary: getMetricsSummary,
} satisfies Handlers<typeof metricRoutes>;
