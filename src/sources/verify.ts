// Verifying a signed source's request with its scheme (./schemes.ts).
import { signatureScheme, type SchemeName } from "./schemes.ts";
import type { SourceMapping, Verified } from "./scheme.ts";

export type { Verified } from "./scheme.ts";

/** A signed source: from TENANTS, or stored with `PUT /v1/sources/{name}`. */
export interface SourceConfig {
  scheme: SchemeName;
  secret: string;
  /** For schemes whose signature header the source chooses (`hmac-sha256`; default `X-Signature`). */
  header?: string;
  mapping?: SourceMapping;
}

/**
 * Verifies a request's signature over its raw bytes, before anything parses them.
 * Returns null on any failure; callers answer every failure the same way.
 */
export async function verifySignature(source: SourceConfig, headers: Headers, body: Uint8Array, now = Date.now()): Promise<Verified | null> {
  const scheme = signatureScheme(source.scheme);
  return scheme ? scheme.verify({ headers, body, secret: source.secret, header: source.header, now }) : null;
}
