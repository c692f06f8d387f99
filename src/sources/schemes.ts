// Every signature scheme a signed source may use. Adding one is a file in ./schemes plus one entry
// here: the TENANTS and `PUT /v1/sources` validation, the mapping defaults, `npm run sign` and
// `edgeflow sign` all read this list.
import type { SignatureScheme } from "./scheme.ts";
import { github } from "./schemes/github.ts";
import { hmacSha256 } from "./schemes/hmac-sha256.ts";
import { shopify } from "./schemes/shopify.ts";
import { standardWebhooks } from "./schemes/standard-webhooks.ts";
import { stripe } from "./schemes/stripe.ts";

export const SCHEMES = [standardWebhooks, stripe, github, hmacSha256, shopify] as const;

export type SchemeName = (typeof SCHEMES)[number]["name"];

/** The names, in registry order (a non-empty tuple, as superstruct's `enums` wants). */
// The registry is a non-empty literal list, so its names are a non-empty tuple.
export const SCHEME_NAMES = SCHEMES.map((s) => s.name) as [SchemeName, ...SchemeName[]];

const BY_NAME = new Map<string, SignatureScheme>(SCHEMES.map((s) => [s.name, s]));

/** A registered scheme by name. */
export function signatureScheme(name: string): SignatureScheme | undefined {
  return BY_NAME.get(name);
}
