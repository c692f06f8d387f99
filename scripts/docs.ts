// `npm run docs`: rewrites the generated tables of docs/*.md from the declarations
// (scripts/lib/docs.ts), and openapi.json from the route table.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderDoc } from "./lib/docs.ts";

const dir = join(import.meta.dirname, "..", "docs");
for (const name of readdirSync(dir).filter((f) => f.endsWith(".md"))) {
  const path = join(dir, name);
  const before = readFileSync(path, "utf8");
  const { text } = renderDoc(before);
  if (text !== before) writeFileSync(path, text);
  console.log(text === before ? `docs/${name} is up to date` : `docs/${name}: generated tables rewritten`);
}
