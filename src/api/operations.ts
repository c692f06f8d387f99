// Running it: liveness, this document, and who a key is.
import { arrayOf, bool, dateTime, error, gone, int, json, noContent, nullable, obj, ref, route, str, withBody } from "./route.ts";

export const operationRoutes = {
  healthz: route<{ ok: true }>()({
    method: "GET",
    path: "/healthz",
    auth: "public",
    summary: "Liveness",
    answers: { 200: json(obj({ ok: { const: true } }), "Up") },
  }),
  openapi: route<Record<string, unknown>>()({
    method: "GET",
    path: "/openapi.json",
    auth: "public",
    summary: "This document",
    answers: { 200: json({ type: "object" }, "OpenAPI 3.1") },
  }),
  whoami: route<{ role: "admin" } | { role: "tenant"; tenant: string }>()({
    method: "GET",
    path: "/v1/whoami",
    auth: "either",
    summary: "Which kind of key this is: the operator's admin key, or a tenant's (and which tenant)",
    answers: { 200: json({ oneOf: [obj({ role: { const: "admin" } }), obj({ role: { const: "tenant" }, tenant: str })] }, "The caller") },
  }),
};
