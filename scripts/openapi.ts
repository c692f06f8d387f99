// Writes openapi.json from src/openapi.ts, the document the Worker serves at GET /openapi.json.
// A unit test fails while the two differ; run `npm run openapi` after changing the API.
//   npm run openapi
import { build } from "esbuild";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { cli } from "./lib/args.ts";

cli("npm run openapi", {});
const root = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "edgeflow-openapi-"));
try {
  // The source imports without extensions, as the Worker's bundler allows; esbuild resolves them.
  const outfile = join(dir, "openapi.mjs");
  await build({ entryPoints: [join(root, "src/openapi.ts")], bundle: true, platform: "node", format: "esm", outfile, logLevel: "warning" });
  const { openApiDocument } = (await import(pathToFileURL(outfile).href)) as { openApiDocument(): unknown };
  writeFileSync(join(root, "openapi.json"), `${JSON.stringify(openApiDocument(), null, 2)}\n`);
  console.log("wrote openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
