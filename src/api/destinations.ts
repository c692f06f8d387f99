// The tenant's destinations: where each handler's calls go.
import { arrayOf, bool, dateTime, error, gone, int, json, noContent, nullable, obj, ref, route, str, withBody } from "./route.ts";

export const destinationRoutes = {
  getDestinations: route<{ destinations: Record<string, Record<string, unknown>> }>()({
    method: "GET",
    path: "/v1/destinations",
    auth: "tenant",
    summary: "The tenant's own destinations, secrets masked",
    answers: { 200: json(ref("Destinations"), "Destinations") },
  }),
  putDestination: route<Record<string, unknown>, Record<string, unknown>>()({
    method: "PUT",
    path: "/v1/destinations/{kind}",
    auth: "tenant",
    summary: "Set one destination",
    params: { kind: ref("DestinationKind") },
    body: { schema: ref("DestinationInput") },
    answers: { 200: json(ref("DestinationInput"), "The destination, masked"), ...withBody },
  }),
  deleteDestination: route<null>()({
    method: "DELETE",
    path: "/v1/destinations/{kind}",
    auth: "tenant",
    summary: "Remove one destination (the deployment's variables apply again, where the tenant inherits them)",
    params: { kind: ref("DestinationKind") },
    answers: { 204: noContent },
  }),
};
