// The operator's admin API: stored tenants and their API keys.
import type { Answered, ApiKeyInfo, TenantView } from "../control/model.ts";
import { arrayOf, bool, error, json, noContent, obj, ref, route, str, withBody } from "./route.ts";

/** A stored tenant as the admin API answers it (with counts and erasure progress where it has them). */
export type TenantAnswer = TenantView & { keys?: number; entities?: number };

export const adminRoutes = {
  createTenant: route<TenantAnswer, { name: string }>()({
    method: "POST",
    path: "/v1/admin/tenants",
    auth: "admin",
    summary: "Create a stored tenant",
    body: { schema: obj({ name: str }) },
    answers: { 201: json(ref("Tenant"), "Created"), 409: error("tenant_exists"), ...withBody },
  }),
  listTenants: route<{ tenants: TenantAnswer[] }>()({
    method: "GET",
    path: "/v1/admin/tenants",
    auth: "admin",
    summary: "The stored tenants",
    answers: { 200: json(obj({ tenants: arrayOf(ref("TenantEntry")) }), "Tenants") },
  }),
  getTenant: route<TenantAnswer>()({
    method: "GET",
    path: "/v1/admin/tenants/{name}",
    auth: "admin",
    summary: "One stored tenant, with erasure progress while erasing",
    answers: { 200: json(ref("TenantDetail"), "The tenant") },
  }),
  updateTenant: route<TenantAnswer, { inheritDestinations?: boolean }>()({
    method: "PATCH",
    path: "/v1/admin/tenants/{name}",
    auth: "admin",
    summary: "Whether the tenant's handlers use the deployment-wide destinations where it has none of its own (off unless set)",
    body: { schema: obj({ inheritDestinations: bool }, ["inheritDestinations"]) },
    answers: { 200: json(ref("TenantDetail"), "The tenant"), ...withBody },
  }),
  deleteTenant: route<TenantAnswer>()({
    method: "DELETE",
    path: "/v1/admin/tenants/{name}",
    auth: "admin",
    summary: "Erase the tenant and everything it owns: entities, objects in R2, D1 rows, dead letters, configuration, keys",
    answers: { 202: json(obj({ name: str, status: { const: "erasing" } }), "Erasing") },
  }),
  createKey: route<Answered<ApiKeyInfo> & { key: string }, { label?: string }>()({
    method: "POST",
    path: "/v1/admin/tenants/{name}/keys",
    auth: "admin",
    summary: "Create an API key; it is shown only here",
    body: { schema: obj({ label: str }, ["label"]) },
    answers: { 201: json(ref("NewApiKey"), "Created"), ...withBody },
  }),
  listKeys: route<{ keys: Array<Answered<ApiKeyInfo>> }>()({
    method: "GET",
    path: "/v1/admin/tenants/{name}/keys",
    auth: "admin",
    summary: "The tenant's keys, by id, label and prefix",
    answers: { 200: json(obj({ keys: arrayOf(ref("ApiKey")) }), "Keys") },
  }),
  revokeKey: route<null>()({
    method: "DELETE",
    path: "/v1/admin/tenants/{name}/keys/{id}",
    auth: "admin",
    summary: "Revoke a key",
    answers: { 204: noContent },
  }),
};
