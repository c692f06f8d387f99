import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import committed from "../../openapi.json";
import { openApiDocument } from "../../src/api/openapi.ts";

describe("the OpenAPI document", () => {
  it("in the repository is the one the Worker serves (run `npm run openapi` after changing the API)", async () => {
    expect(JSON.parse(JSON.stringify(openApiDocument()))).toEqual(committed);
    const response = await exports.default.fetch(new Request("http://localhost/openapi.json"));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(committed);
  });
});
