// The tenant's signed sources (the providers that post to POST /v1/sources/{tenant}/{source}).
import type { StoredSource } from "../control/model.ts";
import { arrayOf, bool, dateTime, error, gone, int, json, noContent, nullable, obj, ref, route, str, withBody } from "./route.ts";

export const sourceSettingRoutes = {
  getSources: route<{ sources: Record<string, StoredSource> }>()({
    method: "GET",
    path: "/v1/sources",
    auth: "tenant",
    summary: "The tenant's signed sources (stored over TENANTS ones of the same name), secrets masked",
    answers: { 200: json(obj({ sources: { type: "object", additionalProperties: ref("Source") } }), "Sources") },
  }),
  putSource: route<StoredSource, { scheme: string; secret: string; header?: string; mapping?: object | null }>()({
    method: "PUT",
    path: "/v1/sources/{name}",
    auth: "tenant",
    summary: "Set a signed source; POST /v1/sources/{tenant}/{name} verifies with it at once",
    body: { schema: ref("Source") },
    answers: { 200: json(ref("Source"), "The source, secret masked"), 409: error("A new source past MAX_SOURCES (limit_exceeded); replacing one is always allowed"), ...withBody },
  }),
  deleteSource: route<null>()({
    method: "DELETE",
    path: "/v1/sources/{name}",
    auth: "tenant",
    summary: "Remove a signed source; later posts to it answer 401 invalid_signature",
    answers: { 204: noContent },
  }),
};
