// What a signature scheme is: one file per scheme in ./schemes, one line in ./schemes.ts. Each
// scheme's `verify` recomputes the signature with the same function its `sign` uses and compares
// (the way Svix's library verifies by signing), so the verifier and `npm run sign` can never
// disagree about what is signed.

/** What a verified request tells us beyond its body. */
export interface Verified {
  /** The provider's delivery id, when the scheme carries one in a header. */
  deliveryId?: string;
  /** The provider's event type from a header (GitHub's `X-GitHub-Event`, Shopify's `X-Shopify-Topic`). */
  eventType?: string;
}

/** How a provider's payload becomes an edgeflow envelope; see ./mapping.ts. */
export interface SourceMapping {
  /** Path of the provider's event type (GitHub: the X-GitHub-Event header, plus `.action`). */
  type?: string;
  /** Provider type → edgeflow type. A provider type not listed is used as it is. */
  types?: Record<string, string>;
  /** Path of the object that becomes `data`. */
  data?: string;
  /** Path of the value that becomes `data.id` (and so the entity id), as a string. */
  id?: string;
  /** Path of the event time (ISO string, epoch ms, or epoch seconds). */
  occurredAt?: string;
}

interface SignInput {
  secret: string;
  body: Uint8Array;
  /** The delivery id, for schemes that send one. */
  id: string;
  now: number;
  /** The provider's event type, for schemes that send it in a header. */
  event?: string;
  /** The signature header, for schemes where the source chooses it. */
  header?: string;
}

interface VerifyInput {
  headers: Headers;
  body: Uint8Array;
  secret: string;
  /** The source's signature header, for schemes where it chooses one. */
  header?: string;
  now: number;
}

export interface SignatureScheme<N extends string = string> {
  name: N;
  /** The headers a provider sends with `body`: what `npm run sign` and `edgeflow sign` print. */
  sign(input: SignInput): Promise<Record<string, string>>;
  /** What the request's signature proves, or null when it proves nothing (every failure alike). */
  verify(input: VerifyInput): Promise<Verified | null>;
  /** How a payload becomes an envelope where the source's own mapping says nothing. */
  mapping: SourceMapping & { type: string; data: string };
  /**
   * The event id, from signed bytes only (a captured body re-sent under a fresh unsigned header
   * must not pass as a new event); undefined falls back to `sha256:` of the raw body.
   */
  eventId(payload: unknown, verified: Verified): string | undefined;
  /** The provider type when it does not live at the mapping's path (a header, say). */
  providerType?(payload: unknown, verified: Verified): unknown;
  /** The scheme's signature header is the source's to choose (`header`), with this default. */
  defaultHeader?: string;
}

/** Declares a scheme, keeping its name as a literal type so the registry can derive `SchemeName`. */
export function defineScheme<const N extends string>(scheme: SignatureScheme<N>): SignatureScheme<N> {
  return scheme;
}

// A header that arrives twice is joined with ", " by the Fetch API; every scheme treats a joined
// value as malformed rather than guessing which copy to trust.
export function singleHeader(headers: Headers, name: string): string | null {
  const value = headers.get(name);
  return value === null || value.includes(", ") ? null : value;
}

export function withinTolerance(timestamp: string, now: number, toleranceS: number): boolean {
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  return Math.abs(now / 1000 - Number(timestamp)) <= toleranceS;
}

/** The payload's own string `id` (Stripe's event id), if it has one. */
export function payloadId(payload: unknown): string | undefined {
  if (typeof payload !== "object" || payload === null || !Object.hasOwn(payload, "id")) return undefined;
  const id = (payload as { id: unknown }).id;
  return typeof id === "string" ? id : undefined;
}
