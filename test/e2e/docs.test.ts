// The docs' tables that restate a declaration are generated (scripts/lib/docs.ts, `npm run docs`);
// this fails when a committed document is not what the declarations say now, or a table is lost.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderDoc, SECTION_NAMES } from "../../scripts/lib/docs.ts";
import { DEPLOYMENT_VARIABLES, HANDLER_DOCS } from "../../scripts/lib/registry.ts";

const DOCS = join(import.meta.dirname, "../../docs");
const docs = readdirSync(DOCS)
  .filter((f) => f.endsWith(".md"))
  .map((f) => ({ name: f, text: readFileSync(join(DOCS, f), "utf8") }));
const README = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");

describe("the docs", () => {
  it("have their generated tables as the declarations make them (run npm run docs)", () => {
    for (const doc of docs) expect(renderDoc(doc.text).text, doc.name).toBe(doc.text);
    // Every table stands somewhere.
    expect(docs.flatMap((d) => renderDoc(d.text).sections).sort()).toEqual([...SECTION_NAMES].sort());
  });

  it("name every deployment variable and every handler", () => {
    const all = docs.map((d) => d.text).join("\n");
    for (const v of DEPLOYMENT_VARIABLES) expect(all).toContain(`\`${v.variable}\``);
    for (const h of HANDLER_DOCS) expect(all).toContain(`| \`${h.name}\` |`);
  });

  it("are reached from the README, which stays short and links nothing outside the repository", () => {
    for (const doc of docs) expect(README, doc.name).toContain(`(docs/${doc.name})`);
    expect(README.split("\n").length).toBeLessThanOrEqual(200);
    expect(README).not.toContain("../shared");
  });
});
