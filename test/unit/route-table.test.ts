// Each route is declared once (src/api/): the router serves it, the OpenAPI document describes it,
// and the typed client has a method for it, all from that one declaration.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EdgeflowClient } from "../../client/index.ts";
import { API } from "../../src/api/index.ts";
import { openApiDocument } from "../../src/api/openapi.ts";
import type { RouteSpec } from "../../src/api/route.ts";
import { apiRequest } from "./helpers.ts";

const routes = Object.entries(API) as Array<[string, RouteSpec]>;
/** A path of the route with every parameter filled in. */
const concrete = (spec: RouteSpec) => spec.path.replace(/\{(\w+)\}/g, (_, name: string) => (name === "kind" ? "slack" : `route-table-${name}`));

describe("the route table", () => {
  it("is served: every declared route answers, none with 'No such route' or a 5xx", async () => {
    for (const [name, spec] of routes) {
      const key = spec.auth === "admin" ? "dev_admin_key" : "dev_demo_key";
      const response = await exports.default.fetch(apiRequest(concrete(spec), { method: spec.method, headers: { authorization: `Bearer ${key}` } }));
      const body = response.headers.get("content-type")?.includes("json") ? ((await response.json()) as { error?: { message?: string } }) : null;
      expect(body?.error?.message, `${name}: ${spec.method} ${spec.path}`).not.toBe("No such route");
      expect(response.status, `${name}: ${spec.method} ${spec.path}`).toBeLessThan(500);
    }
  });

  it("is the OpenAPI document's paths, one operation per route", () => {
    const paths = openApiDocument().paths as Record<string, Record<string, { operationId: string }>>;
    const operations = Object.values(paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(operations.sort()).toEqual(routes.map(([name]) => name).sort());
  });

  it("is the typed client's methods, one per route", () => {
    expect(Object.keys(new EdgeflowClient({ baseUrl: "" }).api).sort()).toEqual(routes.map(([name]) => name).sort());
  });
});
