// Large payloads by reference. An event whose `data` is over PAYLOAD_INLINE_BYTES as JSON is put
// in the R2 bucket PAYLOADS by the router, before its actor is called; the log keeps a reference
// (key, sha256, bytes), and state values over STATE_INLINE_BYTES keep one too, so an entity's rows
// stay small whatever its events carry. Every reader (handlers, endpoints, views, exports) gets
// the full data back through `resolveData` and `resolveState`. Without the binding, everything
// stays inline, as before.
import { PAYLOAD_MARK, type PayloadRef } from "./payload-ref.ts";
import { addUsage } from "./usage.ts";
import type { EntityRef, IncomingEvent, IngestResult, JsonObject, JsonValue } from "./types.ts";

/** Events whose data is larger than this as JSON go to R2. */
export const PAYLOAD_INLINE_BYTES = 32 * 1024;
/** State values larger than this as JSON are kept by reference to their event's object. */
export const STATE_INLINE_BYTES = 4 * 1024;

export { PAYLOAD_MARK, type PayloadRef };

/** What the log keeps for an event stored by reference. */
type StoredPayload = { [PAYLOAD_MARK]: PayloadRef };
/** What the state keeps for a large value: the object holding it, and the field. */
type StateRef = { [PAYLOAD_MARK]: PayloadRef; field: string };

const encoder = new TextEncoder();

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Objects of one entity share a prefix, so its erasure deletes them by listing it. */
export function entityPrefix(space: string, entity: EntityRef): string {
  return `${spacePrefix(space)}${encodeURIComponent(entity.type)}/${encodeURIComponent(entity.id)}/`;
}

function isRef(value: unknown): value is StoredPayload {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const ref = (value as Record<string, unknown>)[PAYLOAD_MARK] as Partial<PayloadRef> | undefined;
  return typeof ref?.key === "string" && typeof ref.sha256 === "string";
}

/** The reference a stored data or state value holds, or null. */
export function refOf(value: unknown): PayloadRef | null {
  return isRef(value) ? value[PAYLOAD_MARK] : null;
}

/**
 * The router's part: puts each event's data that is over the threshold in PAYLOADS, and gives the
 * event its reference. The data itself still travels to the actor, which merges it into the state.
 * The key names the event's id and its content (the envelope's fingerprint, else the data's
 * digest): a repeat of the same event writes the same object again, and an event the actor refuses
 * (another content under a known id, an erased entity) can never overwrite an object a stored
 * event refers to. `releaseRefused` deletes the objects of what the actor did not keep. (Until
 * 0.6 the key was the event id alone, and a refused repeat overwrote the stored event's data.)
 */
export async function offloadPayloads(env: Cloudflare.Env, space: string, events: IncomingEvent[]): Promise<IncomingEvent[]> {
  const bucket = env.PAYLOADS;
  if (!bucket) return events;
  return Promise.all(
    events.map(async (event) => {
      const json = JSON.stringify(event.data);
      if (json.length <= PAYLOAD_INLINE_BYTES || event.payload) return event;
      const bytes = encoder.encode(json) as Uint8Array<ArrayBuffer>;
      if (bytes.length <= PAYLOAD_INLINE_BYTES) return event;
      const sha256 = await sha256Hex(bytes);
      const ref: PayloadRef = { key: `${entityPrefix(space, event.entity)}${encodeURIComponent(event.id)}/${event.fingerprint ?? sha256}`, sha256, bytes: bytes.length };
      await bucket.put(ref.key, bytes, { httpMetadata: { contentType: "application/json" }, customMetadata: { sha256: ref.sha256 } });
      addUsage("r2ClassA");
      return { ...event, payload: ref };
    }),
  );
}

/**
 * Deletes the objects `offloadPayloads` put for events their actor did not keep: neither accepted
 * nor scheduled, and not a repeat of the event that refers to the same object (`payloadInUse`).
 * Nothing else can refer to such an object, as its key names its content. A failure leaves an
 * object no event refers to, under its entity's prefix, which the entity's erasure deletes.
 */
export async function releaseRefused(env: Cloudflare.Env, events: readonly IncomingEvent[], results: readonly IngestResult[]): Promise<void> {
  const unused = events.flatMap((event, i) => {
    const result = results[i];
    if (!event.payload || !result || result.status === "accepted" || result.status === "scheduled" || result.payloadInUse === true) return [];
    return [event.payload.key];
  });
  await deletePayloads(env, unused);
}

/** The JSON the log keeps for an event's data: the reference when it has one. */
export function storedData(event: Pick<IncomingEvent, "data" | "payload">): string {
  return JSON.stringify(event.payload ? ({ [PAYLOAD_MARK]: event.payload } satisfies StoredPayload) : event.data);
}

/**
 * The data to merge into the state: values over STATE_INLINE_BYTES of an event stored by
 * reference become references to its object and field.
 */
export function stateData(event: Pick<IncomingEvent, "data" | "payload">): JsonObject {
  const ref = event.payload;
  if (!ref) return event.data;
  const out: JsonObject = {};
  for (const [field, value] of Object.entries(event.data)) {
    const large = JSON.stringify(value).length > STATE_INLINE_BYTES;
    const kept = large ? ({ [PAYLOAD_MARK]: { ...ref }, field } satisfies StateRef as unknown as JsonValue) : value;
    Object.defineProperty(out, field, { value: kept, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * A stored reference whose object is gone or no longer matches its hash: no retry reads it. A
 * delivery that needs it fails its attempt (and ends dead); a view shows what it can without it.
 */
export class PayloadUnreadable extends Error {
  override name = "PayloadUnreadable";
}

/** Reads objects for one reader, each once however many values point at it. */
export class PayloadReader {
  private readonly read = new Map<string, Promise<JsonObject>>();

  constructor(
    private readonly env: Cloudflare.Env,
    /** The entity's own prefix: a reference anywhere else is refused, whatever put it there. */
    private readonly prefix: string,
  ) {}

  private object(ref: PayloadRef): Promise<JsonObject> {
    let found = this.read.get(ref.key);
    if (!found) {
      found = this.fetch(ref);
      this.read.set(ref.key, found);
    }
    return found;
  }

  private async fetch(ref: PayloadRef): Promise<JsonObject> {
    if (!ref.key.startsWith(this.prefix)) throw new PayloadUnreadable(`not this entity's object: ${ref.key}`);
    const bucket = this.env.PAYLOADS;
    if (!bucket) throw new Error(`payload ${ref.key} is in R2, and the PAYLOADS binding is missing`);
    const object = await bucket.get(ref.key);
    addUsage("r2ClassB");
    if (!object) throw new PayloadUnreadable(`missing from PAYLOADS: ${ref.key}`);
    const bytes = new Uint8Array(await object.arrayBuffer()) as Uint8Array<ArrayBuffer>;
    if ((await sha256Hex(bytes)) !== ref.sha256) throw new PayloadUnreadable(`does not match its hash: ${ref.key}`);
    return JSON.parse(new TextDecoder().decode(bytes)) as JsonObject;
  }

  /** An event's data as stored (its JSON), whole. */
  async data(stored: string): Promise<JsonObject> {
    const value = JSON.parse(stored) as JsonObject;
    const ref = refOf(value);
    return ref ? this.object(ref) : value;
  }

  /**
   * State values with every reference replaced by the value it points at. `lenient` (views): a value
   * whose object is unreadable shows as null instead of failing the whole answer for good.
   */
  async state(values: JsonObject, lenient = false): Promise<JsonObject> {
    const out: JsonObject = {};
    for (const [field, value] of Object.entries(values)) {
      const ref = refOf(value);
      let whole: JsonValue = value;
      if (ref) {
        try {
          whole = (await this.object(ref))[(value as unknown as StateRef).field] ?? null;
        } catch (err) {
          if (!lenient || !(err instanceof PayloadUnreadable)) throw err;
          whole = null;
        }
      }
      Object.defineProperty(out, field, { value: whole, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}

/** Every object of a tenant space shares this prefix (its entities' prefixes are under it). */
export function spacePrefix(space: string): string {
  return `payloads/${encodeURIComponent(space)}/`;
}

/**
 * Deletes up to one listing page (1,000) of a tenant space's objects (offboarding, a step at a
 * time): true when none is left. Catches what no entity's erasure reached: objects of entities
 * that never got listed, and those a failed cleanup left.
 */
export async function deleteSpacePayloadsPage(env: Cloudflare.Env, space: string): Promise<boolean> {
  const bucket = env.PAYLOADS;
  if (!bucket) return true;
  const page = await bucket.list({ prefix: spacePrefix(space), limit: 1000 });
  addUsage("r2ClassA");
  const keys = page.objects.map((o) => o.key);
  if (keys.length > 0) await bucket.delete(keys);
  return !page.truncated;
}

/** Deletes every object of an entity (its erasure). Deletes are free; each listing is a class A operation. */
export async function deleteEntityPayloads(env: Cloudflare.Env, space: string, entity: EntityRef): Promise<number> {
  const bucket = env.PAYLOADS;
  if (!bucket) return 0;
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: entityPrefix(space, entity), cursor, limit: 1000 });
    addUsage("r2ClassA");
    const keys = page.objects.map((o) => o.key);
    if (keys.length > 0) await bucket.delete(keys);
    deleted += keys.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return deleted;
}

/** Deletes the objects behind these stored data (compacted events). */
export async function deletePayloads(env: Cloudflare.Env, keys: readonly string[]): Promise<void> {
  const bucket = env.PAYLOADS;
  if (!bucket || keys.length === 0) return;
  for (let i = 0; i < keys.length; i += 1000) await bucket.delete(keys.slice(i, i + 1000));
}
