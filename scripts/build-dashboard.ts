// Builds the dashboard (dashboard/) into public/, which wrangler serves as static assets: one
// bundled script and one stylesheet, nothing loaded from elsewhere. wrangler runs this before
// `wrangler dev` and `wrangler deploy` (wrangler.jsonc "build"); `npm test` runs it first too.
//
// Several `wrangler dev` servers may start at once (the end-to-end files run two at a time), and
// each runs this build while the others serve public/. So the build never empties public/: when
// no input changed since the last build it writes nothing, and otherwise each file is written
// beside its place and renamed over it, which a reader sees as the old file or the new one.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { build } from "esbuild";
import { KIND_FORMS } from "./lib/registry.ts";
import { SETTINGS } from "../src/control/settings.ts";

const ROOT = join(import.meta.dirname, "..");
const OUT = join(ROOT, "public");
// Outside public/, so it is never served.
const STAMP = join(ROOT, "node_modules/.cache/edgeflow-dashboard.json");
// The forms the dashboard makes from declarations: destination kinds, and tenant settings.
const SETTING_FORMS = SETTINGS.map(({ group, field, kind, label, ...bounds }) => ({ group, field, kind, label, ...("min" in bounds ? { min: bounds.min, max: bounds.max } : {}) }));
const define = { EDGEFLOW_KINDS: JSON.stringify(KIND_FORMS), EDGEFLOW_SETTINGS: JSON.stringify(SETTING_FORMS) };
const defineHash = createHash("sha256").update(JSON.stringify(define)).digest("hex");

interface Stamp {
  /** Input path (from the root) to the sha256 of its content when public/ was last written. */
  inputs: Record<string, string>;
  outputs: string[];
  /** sha256 of what `define` puts into the bundle. */
  define: string;
}

function digest(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function upToDate(): boolean {
  if (!existsSync(STAMP)) return false;
  try {
    const stamp = JSON.parse(readFileSync(STAMP, "utf8")) as Stamp;
    return (
      stamp.define === defineHash &&
      stamp.outputs.every((name) => existsSync(join(OUT, name))) &&
      Object.entries(stamp.inputs).every(([path, hash]) => existsSync(join(ROOT, path)) && digest(join(ROOT, path)) === hash)
    );
  } catch {
    return false;
  }
}

if (upToDate()) {
  console.log("dashboard in public/ is up to date");
} else {
  const result = await build({
    entryPoints: [join(ROOT, "dashboard/main.ts"), join(ROOT, "dashboard/style.css")],
    absWorkingDir: ROOT,
    outdir: OUT,
    write: false,
    metafile: true,
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    sourcemap: true,
    logLevel: "warning",
    // The settings forms are made from the destination kinds (src/handlers/kinds.ts) and the tenant settings (src/control/settings.ts).
    define,
  });
  mkdirSync(OUT, { recursive: true });
  const files = [...result.outputFiles.map((file) => ({ name: relative(OUT, file.path), contents: file.contents })), { name: "index.html", contents: readFileSync(join(ROOT, "dashboard/index.html")) }];
  for (const { name, contents } of files) {
    const temporary = join(OUT, `.${basename(name)}.${process.pid}.tmp`);
    writeFileSync(temporary, contents);
    renameSync(temporary, join(OUT, name));
  }
  const written = new Set(files.map((file) => file.name));
  for (const name of readdirSync(OUT)) if (!written.has(name) && !name.endsWith(".tmp")) rmSync(join(OUT, name), { recursive: true, force: true });

  // Virtual inputs ("<define:…>") are covered by the define hash.
  const inputs = [...Object.keys(result.metafile.inputs).filter((path) => !path.startsWith("<")), "dashboard/index.html", "scripts/build-dashboard.ts"];
  const stamp: Stamp = { inputs: Object.fromEntries(inputs.map((path) => [path, digest(join(ROOT, path))])), outputs: [...written], define: defineHash };
  mkdirSync(join(STAMP, ".."), { recursive: true });
  writeFileSync(STAMP, JSON.stringify(stamp));
  console.log("dashboard built into public/");
}
