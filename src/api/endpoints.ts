// The tenant's customer webhook endpoints.
import type { EndpointAnswer } from "../control/model.ts";
import { arrayOf, bool, dateTime, error, gone, int, json, noContent, nullable, obj, ref, route, str, withBody } from "./route.ts";

/** What `POST /v1/endpoints` takes (and `PATCH` changes). */
export interface EndpointInput {
  url: string;
  eventTypes?: string[] | null;
  description?: string | null;
  backfill?: boolean;
  rateLimit?: { perSecond: number } | null;
  maxConcurrency?: number | null;
}

export const endpointRoutes = {
  createEndpoint: route<EndpointAnswer & { secret: string; backfillId?: string }, EndpointInput>()({
    method: "POST",
    path: "/v1/endpoints",
    auth: "tenant",
    summary: "Register a customer webhook endpoint",
    body: { schema: ref("EndpointInput") },
    answers: {
      201: json(ref("NewEndpoint"), "Created; the secret is shown only here"),
      409: error("The tenant has MAX_ENDPOINTS endpoints (limit_exceeded)"),
      422: error("An unregistered event type"),
      ...withBody,
    },
  }),
  listEndpoints: route<{ endpoints: EndpointAnswer[] }>()({
    method: "GET",
    path: "/v1/endpoints",
    auth: "tenant",
    summary: "The tenant's endpoints",
    answers: { 200: json(obj({ endpoints: arrayOf(ref("Endpoint")) }), "Endpoints") },
  }),
  getEndpoint: route<EndpointAnswer>()({
    method: "GET",
    path: "/v1/endpoints/{id}",
    auth: "tenant",
    summary: "One endpoint",
    answers: { 200: json(ref("Endpoint"), "The endpoint") },
  }),
  updateEndpoint: route<EndpointAnswer, Partial<EndpointInput> & { status?: "active" | "disabled" }>()({
    method: "PATCH",
    path: "/v1/endpoints/{id}",
    auth: "tenant",
    summary: 'Change an endpoint; {"status":"active"} re-enables a disabled one and every entity drains what it held, in order',
    body: { schema: ref("EndpointChange") },
    answers: { 200: json(ref("Endpoint"), "The endpoint"), 422: error("An unregistered event type"), ...withBody },
  }),
  deleteEndpoint: route<null>()({
    method: "DELETE",
    path: "/v1/endpoints/{id}",
    auth: "tenant",
    summary: "Delete an endpoint; what it had not delivered ends skipped",
    answers: { 204: noContent },
  }),
  rotateEndpointSecret: route<{ secret: string }>()({
    method: "POST",
    path: "/v1/endpoints/{id}/rotate-secret",
    auth: "tenant",
    summary: "A new signing secret for later deliveries",
    answers: { 200: json(obj({ secret: { type: "string", pattern: "^whsec_" } }), "The new secret") },
  }),
};
