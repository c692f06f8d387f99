// Signs a JSON body the way a provider would and prints a ready curl command for
// POST /v1/sources/{tenant}/{source}. Usage:
//   npm run sign -- --scheme stripe --secret whsec_… --body event.json [--tenant demo] [--source stripe]
//                   [--url http://localhost:8787] [--id msg_…] [--event issues] [--header X-Signature]
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { bytesToHex, hmac, hmacKey, signedContent } from "../src/sources/crypto.ts";
import { signStandardWebhooks } from "../src/sources/sign.ts";

const SCHEMES = ["standard-webhooks", "stripe", "github", "hmac-sha256"] as const;
type Scheme = (typeof SCHEMES)[number];

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : fallback;
  if (value === undefined) {
    console.error(`missing --${name}\nusage: npm run sign -- --scheme ${SCHEMES.join("|")} --secret S --body FILE [--tenant T] [--source NAME] [--url URL]`);
    process.exit(2);
  }
  return value;
}

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

if (import.meta.main) {
  const scheme = arg("scheme") as Scheme;
  if (!SCHEMES.includes(scheme)) {
    console.error(`--scheme must be one of ${SCHEMES.join(", ")}`);
    process.exit(2);
  }
  const file = arg("body");
  const body = new Uint8Array(readFileSync(file));
  const headers = await signatureHeaders(scheme, arg("secret"), body, {
    id: arg("id", scheme === "github" ? randomUUID() : `msg_${randomUUID()}`),
    now: Date.now(),
    event: arg("event", "issues"),
    header: arg("header", "X-Signature"),
  });
  const url = `${arg("url", "http://localhost:8787")}/v1/sources/${arg("tenant", "demo")}/${arg("source", scheme)}`;
  const lines = [`curl -s -X POST ${shellQuote(url)}`, `-H 'Content-Type: application/json'`, ...Object.entries(headers).map(([k, v]) => `-H ${shellQuote(`${k}: ${v}`)}`), `--data-binary @${shellQuote(file)}`];
  console.log(lines.join(" \\\n  "));
}
