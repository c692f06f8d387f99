// The README's configuration table is written by hand; this keeps it honest against the one
// declaration of handler settings (src/handlers/settings.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allSettings } from "../../src/handlers/settings.ts";

const README = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");

function section(title: string): string {
  const start = README.indexOf(`## ${title}\n`);
  if (start < 0) throw new Error(`README has no section ${title}`);
  const end = README.indexOf("\n## ", start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

describe("README", () => {
  it("lists every handler setting in its configuration table, saying what an unset one does", () => {
    const rows = section("Configuration").split("\n").filter((line) => line.startsWith("| `"));
    for (const setting of allSettings()) {
      const row = rows.find((r) => r.split("|")[1]!.includes(`\`${setting.name}\``));
      expect(row, setting.name).toBeDefined();
      if (setting.required) expect(row, setting.name).toMatch(/unset:.*skipped/);
    }
  });
});
