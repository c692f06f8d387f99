// Metrics: Prometheus text, and the dashboard's JSON.
import type { MetricsSummary } from "../types.ts";
import { arrayOf, bool, dateTime, error, gone, int, json, noContent, nullable, obj, ref, route, str, withBody } from "./route.ts";

export const metricRoutes = {
  prometheus: route<string>()({
    method: "GET",
    path: "/metrics",
    auth: "either",
    summary: "Prometheus metrics: a tenant key sees its own series, the admin key every tenant's",
    answers: { 200: { description: "Text exposition format 0.0.4", schema: str, contentType: "text/plain" } },
  }),
  metricsSummary: route<MetricsSummary>()({
    method: "GET",
    path: "/v1/metrics",
    auth: "tenant",
    summary: "The tenant's metrics as JSON (the dashboard's charts)",
    answers: {
      200: json(
        obj({
          minutes: { type: "array", items: obj({ minute: dateTime, byType: { type: "object", additionalProperties: int } }) },
          deliveries: { type: "object", additionalProperties: { type: "object", additionalProperties: int } },
          deadLettersOpen: { type: "object", additionalProperties: int },
          latency: { type: "object", additionalProperties: obj({ count: int, p50: nullable({ type: "number" }), p99: nullable({ type: "number" }) }) },
        }),
        "Events per minute by type (last hour), deliveries by handler and outcome, open dead letters, latency quantiles (seconds)",
      ),
    },
  }),
};
