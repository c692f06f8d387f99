// The README's tables that restate a registry are generated (scripts/lib/readme.ts, `npm run docs`);
// this fails when the committed README is not what the registries say now.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderReadme } from "../../scripts/lib/readme.ts";
import { DEPLOYMENT_VARIABLES, HANDLER_DOCS } from "../../scripts/lib/registry.ts";

const README = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");

describe("README", () => {
  it("has its generated tables as the registries make them (run npm run docs)", () => {
    expect(renderReadme(README)).toBe(README);
  });

  it("names every deployment variable and every handler", () => {
    for (const v of DEPLOYMENT_VARIABLES) expect(README).toContain(`\`${v.variable}\``);
    for (const h of HANDLER_DOCS) expect(README).toContain(`| \`${h.name}\` |`);
  });
});
