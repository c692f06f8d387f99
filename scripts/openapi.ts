// Writes openapi.json from src/api/openapi.ts, the document the Worker serves at GET /openapi.json.
// A unit test fails while the two differ; run `npm run openapi` after changing the API.
//   npm run openapi
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { cli } from "./lib/args.ts";

cli("npm run openapi", {});
const root = resolve(import.meta.dirname, "..");
// Loaded by URL: its types reach the Worker's runtime types, which the Node project does not load.
const { openApiDocument } = (await import(new URL("../src/api/openapi.ts", import.meta.url).href)) as { openApiDocument(): unknown };
writeFileSync(resolve(root, "openapi.json"), `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log("wrote openapi.json");
