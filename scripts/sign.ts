// Signs a JSON body the way a provider would and prints a ready curl command for
// POST /v1/sources/{tenant}/{source}. Usage:
//   npm run sign -- --scheme stripe --secret whsec_… --body event.json [--tenant demo] [--source stripe]
//                   [--url http://localhost:8787] [--id msg_…] [--event issues|customers/create] [--header X-Signature]
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { cli } from "./lib/args.ts";
import { SCHEME_NAMES, signatureScheme, type SchemeName } from "../src/sources/schemes.ts";

/** Every registered scheme's name (src/sources/schemes.ts). */
export const SCHEMES = SCHEME_NAMES;

/** The signature headers for `body` under `scheme`, as a provider would send them: the scheme's own `sign`. */
export function signatureHeaders(scheme: SchemeName, secret: string, body: Uint8Array, options: { id: string; now: number; event?: string; header?: string }): Promise<Record<string, string>> {
  const found = signatureScheme(scheme);
  if (!found) throw new Error(`unknown scheme ${scheme}`);
  return found.sign({ secret, body, ...options });
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The curl command that POSTs the file at `file` with `headers`. */
export function curlCommand(url: string, headers: Record<string, string>, file: string): string {
  const lines = [`curl -s -X POST ${shellQuote(url)}`, `-H 'Content-Type: application/json'`, ...Object.entries(headers).map(([k, v]) => `-H ${shellQuote(`${k}: ${v}`)}`), `--data-binary @${shellQuote(file)}`];
  return lines.join(" \\\n  ");
}

const USAGE = `npm run sign -- --scheme ${SCHEMES.join("|")} --secret S --body FILE [--tenant T] [--source NAME] [--url URL] [--id ID] [--event E] [--header H]`;

if (import.meta.main) {
  const args = cli(USAGE, {
    scheme: { type: "string" },
    secret: { type: "string" },
    body: { type: "string" },
    tenant: { type: "string", default: "demo" },
    source: { type: "string" },
    url: { type: "string", default: "http://localhost:8787" },
    id: { type: "string" },
    event: { type: "string" },
    header: { type: "string", default: "X-Signature" },
  });
  const scheme = SCHEMES.find((s) => s === args.scheme);
  if (!scheme || !args.secret || !args.body) {
    console.error(`--scheme (one of ${SCHEMES.join(", ")}), --secret and --body are required\nusage: ${USAGE}`);
    process.exit(2);
  }
  const file = args.body;
  const body = new Uint8Array(readFileSync(file));
  const headers = await signatureHeaders(scheme, args.secret, body, {
    id: args.id ?? (scheme === "github" ? randomUUID() : `msg_${randomUUID()}`),
    now: Date.now(),
    event: args.event,
    header: args.header,
  });
  console.log(curlCommand(`${args.url}/v1/sources/${args.tenant}/${args.source ?? scheme}`, headers, file));
}
