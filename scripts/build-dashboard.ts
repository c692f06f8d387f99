// Builds the dashboard (dashboard/) into public/, which wrangler serves as static assets: one
// bundled script and one stylesheet, nothing loaded from elsewhere. wrangler runs this before
// `wrangler dev` and `wrangler deploy` (wrangler.jsonc "build"); `npm test` runs it first too.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { KIND_FORMS } from "./lib/registry.ts";

const ROOT = join(import.meta.dirname, "..");
const OUT = join(ROOT, "public");

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
await build({
  entryPoints: [join(ROOT, "dashboard/main.ts"), join(ROOT, "dashboard/style.css")],
  outdir: OUT,
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  sourcemap: true,
  logLevel: "warning",
  // The settings form is made from the destination kinds table (src/handlers/kinds.ts).
  define: { EDGEFLOW_KINDS: JSON.stringify(KIND_FORMS) },
});
copyFileSync(join(ROOT, "dashboard/index.html"), join(OUT, "index.html"));
console.log("dashboard built into public/");
