import { ingestGrouped } from "../group-commit.ts";
import type { AuthedRequest } from "../auth.ts";
import { ApiError, errorBody } from "../../api/errors.ts";
import { eventDefinition } from "../../events/registry.ts";
import { logLine } from "../../log.ts";
import { publishLive } from "../../live/feed.ts";
import { countReceived } from "../../metrics/record.ts";
import { readJsonBody } from "../request-body.ts";
import { parseEnvelope } from "../../events/envelope.ts";
import type { IncomingEvent, IngestResult, LiveMessage, TenantScope } from "../../types.ts";
import type { Handlers } from "../register.ts";
import type { eventRoutes } from "../../api/events.ts";

export const MAX_BATCH = 100;

/** `POST /v1/events`: one event, answered only once its actor has stored it durably. */
export async function postEvent(request: AuthedRequest, env: Cloudflare.Env, ctx: ExecutionContext): Promise<Response> {
  let body: unknown;
  return countingRejection(request.tenant, () => body, async () => {
    body = await readJsonBody(request, env);
    const event = await parseEnvelope(body, { idempotencyKey: request.headers.get("idempotency-key"), receivedAt: Date.now() });
    return storeEvent(env, request, event, ctx);
  });
}

/**
 * Runs `store`, counting a refusal (a 4xx ApiError) as one rejected event of the type the body
 * names, if that is a registered type: a label never takes a client's arbitrary string.
 */
export async function countingRejection(tenant: string, body: () => unknown, store: () => Promise<Response>): Promise<Response> {
  try {
    return await store();
  } catch (err) {
    if (err instanceof ApiError && err.status < 500 && err.code !== "id_conflict") countReceived(tenant, typeLabel(body()), "rejected", err.code);
    throw err;
  }
}

/** The event type as a metrics label: a registered type, else "unknown". */
function typeLabel(body: unknown): string {
  const type = isRecord(body) ? body.type : undefined;
  return typeof type === "string" && eventDefinition(type) ? type : "unknown";
}

/**
 * Counts what the actors answered (accepted, duplicate, or a known id with other content:
 * rejected) and tells the live feed's watchers, if any, after the answer.
 */
function recordResults(env: Cloudflare.Env, ctx: ExecutionContext, tenant: string, events: readonly IncomingEvent[], results: readonly IngestResult[]): void {
  const live: LiveMessage[] = [];
  const at = Date.now();
  results.forEach((result, i) => {
    const type = events[i]?.type ?? "unknown";
    const refused = refusalOf(result);
    if (refused) countReceived(tenant, type, "rejected", refused.code);
    else countReceived(tenant, type, result.status === "scheduled" ? "accepted" : result.status === "duplicate" ? "duplicate" : "accepted");
    if ((result.status === "accepted" || result.status === "duplicate") && result.deliverAt === undefined) live.push({ kind: "event", id: result.id, type, entity: result.entity, seq: result.seq, status: result.status, at });
  });
  ctx.waitUntil(publishLive(env, tenant, live));
}

/**
 * Stores one validated event in its actor: 202 when new, 200 for a repeat of a known id with the
 * same content, 409 for a known id with different content (nothing stored).
 */
export async function storeEvent(env: Cloudflare.Env, scope: TenantScope, event: IncomingEvent, ctx: ExecutionContext): Promise<Response> {
  const { tenant } = scope;
  const started = Date.now();
  const [result] = await ingestGrouped(env, scope, event.entity, [event]);
  if (!result) throw new Error("actor returned no result");
  logReceived(env, tenant, [result], 0, started);
  recordResults(env, ctx, tenant, [event], [result]);
  const refused = refusalOf(result);
  if (refused) throw refused;
  return Response.json(resultView(result), { status: result.status === "duplicate" ? 200 : 202 });
}

/** The error a result the actor refused is answered with (nothing was stored), or null for a stored one. */
function refusalOf(result: IngestResult): ApiError | null {
  if (result.status === "conflict") return idConflict(result.id);
  if (result.status === "erased") return entityErased(result.entity);
  if (result.status === "limit") {
    return new ApiError(409, "limit_exceeded", `Entity ${result.entity.type}/${result.entity.id} holds as many scheduled events as it may (MAX_SCHEDULED_PER_ENTITY); cancel one or wait for one to be appended`, [
      { path: "deliverAt", message: "the entity's scheduled events are at their limit" },
    ]);
  }
  return null;
}

/** A stored or scheduled event as the API answers it: `seq` once in the log, `deliverAt` while scheduled. */
function resultView(result: IngestResult): Record<string, unknown> {
  const { id, entity, status } = result;
  if (result.deliverAt !== undefined) return { id, entity, status, deliverAt: new Date(result.deliverAt).toISOString() };
  // A repeat of an event retention compacted away: its position is no longer kept.
  return result.seq > 0 ? { id, entity, status, seq: result.seq } : { id, entity, status };
}

function entityErased(entity: IngestResult["entity"]): ApiError {
  return new ApiError(410, "entity_erased", `Entity ${entity.type}/${entity.id} was erased and takes no more events`);
}

function idConflict(id: string): ApiError {
  return new ApiError(409, "id_conflict", `Event ${id} was already received with different content; use a new id for a new event`, [
    { path: "id", message: "is already taken by a different event" },
  ]);
}

type BatchResult = Record<string, unknown> | ReturnType<typeof errorBody>;

/** A batch item's answer: the stored result, or the same error a single POST would have got. */
function batchResult(result: IngestResult, index: number): BatchResult {
  const err = refusalOf(result);
  if (!err) return resultView(result);
  return errorBody(err.code, err.message, err.issues?.map((issue) => ({ ...issue, path: `events.${index}.${issue.path}` })));
}

/**
 * `POST /v1/events/batch`: up to 100 events, each validated and stored independently; one actor
 * call per entity, results in request order. Accepts `{"events":[…]}` or a bare array.
 */
export async function postBatch(request: AuthedRequest, env: Cloudflare.Env, ctx: ExecutionContext): Promise<Response> {
  const body = await readJsonBody(request, env);
  const items = Array.isArray(body) ? body : isRecord(body) && Array.isArray(body.events) ? body.events : undefined;
  if (!items) {
    throw new ApiError(400, "invalid_event", "The batch must be a JSON array of events or {\"events\": [...]}", [
      { path: "events", message: "must be an array" },
    ]);
  }
  if (items.length === 0 || items.length > MAX_BATCH) {
    throw new ApiError(400, "invalid_event", `A batch holds 1 to ${MAX_BATCH} events`, [
      { path: "events", message: `must hold between 1 and ${MAX_BATCH} events, got ${items.length}` },
    ]);
  }

  const receivedAt = Date.now();
  const results: BatchResult[] = new Array(items.length);
  const storedAll: IngestResult[] = [];
  const groups = new Map<string, { events: IncomingEvent[]; indexes: number[] }>();
  for (const [index, item] of items.entries()) {
    try {
      const event = await parseEnvelope(item, { receivedAt, path: `events.${index}` });
      const key = `${event.entity.type}/${event.entity.id}`;
      const group = groups.get(key) ?? { events: [], indexes: [] };
      group.events.push(event);
      group.indexes.push(index);
      groups.set(key, group);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      results[index] = errorBody(err.code, err.message, err.issues);
      countReceived(request.tenant, typeLabel(item), "rejected", err.code);
    }
  }

  await Promise.all(
    [...groups.values()].map(async ({ events, indexes }) => {
      try {
        const stored = await ingestGrouped(env, request, events[0]!.entity, events);
        storedAll.push(...stored);
        recordResults(env, ctx, request.tenant, events, stored);
        stored.forEach((result, i) => (results[indexes[i]!] = batchResult(result, indexes[i]!)));
      } catch (err) {
        logLine(env, "error", "batch group failed", { entity: events[0]!.entity, error: String(err) });
        for (const index of indexes) results[index] = errorBody("unavailable", "The event could not be stored; retry it");
        for (const event of events) countReceived(request.tenant, event.type, "rejected", "unavailable");
      }
    }),
  );
  logReceived(env, request.tenant, storedAll, items.length - storedAll.length, receivedAt);
  return Response.json({ results }, { status: 207 });
}

/**
 * The one log line of a request that reached the actors: what its events came to (`failed`: items
 * refused by validation, or whose actor could not store them), and how long it took.
 */
function logReceived(env: Cloudflare.Env, tenant: string, results: ReadonlyArray<Pick<IngestResult, "status">>, failed: number, started: number): void {
  const count = (status: IngestResult["status"]) => results.filter((r) => r.status === status).length;
  logLine(env, "info", "events received", {
    tenant,
    accepted: count("accepted"),
    duplicate: count("duplicate"),
    conflict: count("conflict"),
    erased: count("erased"),
    scheduled: count("scheduled"),
    failed,
    durationMs: Date.now() - started,
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** This file's routes (src/api/events.ts), by name. */
export const eventHandlers = {
  postEvent,
  postBatch,
} satisfies Handlers<typeof eventRoutes>;
