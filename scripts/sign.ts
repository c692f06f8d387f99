// Signs a JSON body the way a provider would and prints a ready curl command for
// POST /v1/sources/{tenant}/{source}. Usage:
//   npm run sign -- --scheme stripe --secret whsec_… --body event.json [--tenant demo] [--source stripe]
//                   [--url http://localhost:8787] [--id msg_…] [--event issues] [--header X-Signature]
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { cli } from "./lib/args.ts";
import { bytesToHex, hmac, hmacKey, signedContent } from "../src/sources/crypto.ts";
import { signStandardWebhooks } from "../src/sources/sign.ts";

export const SCHEMES = ["standard-webhooks", "stripe", "github", "hmac-sha256"] as const;
type Scheme = (typeof SCHEMES)[number];


/** The signature headers for `body` under `scheme`, as a provider would send them. */
export async function signatureHeaders(scheme: Scheme, secret: string, body: Uint8Array<ArrayBuffer>, options: { id: string; now: number; event?: string; header?: string }): Promise<Record<string, string>> {
  const ts = Math.floor(options.now / 1000);
  switch (scheme) {
    case "standard-webhooks":
      return signStandardWebhooks(secret, options.id, body, options.now);
    case "stripe":
      return { "Stripe-Signature": `t=${ts},v1=${bytesToHex(await hmac(await hmacKey(secret), signedContent(`${ts}.`, body)))}` };
    case "github":
      return {
        "X-Hub-Signature-256": `sha256=${bytesToHex(await hmac(await hmacKey(secret), signedContent("", body)))}`,
        "X-GitHub-Delivery": options.id,
        "X-GitHub-Event": options.event ?? "issues",
      };
    case "hmac-sha256":
      return { [options.header ?? "X-Signature"]: bytesToHex(await hmac(await hmacKey(secret), signedContent("", body))) };
  }
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
    event: { type: "string", default: "issues" },
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
