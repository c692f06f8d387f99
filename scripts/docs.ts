// `npm run docs`: rewrites the README's generated tables from the registries (scripts/lib/readme.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderReadme } from "./lib/readme.ts";

const path = join(import.meta.dirname, "..", "README.md");
const before = readFileSync(path, "utf8");
const after = renderReadme(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? "README.md is up to date" : "README.md: generated tables rewritten");
