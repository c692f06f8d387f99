import { is } from "superstruct";
import { entityActor, type EntityActorRpc } from "../../rpc/actors.ts";
import type { AuthedRequest } from "../auth.ts";
import { ApiError } from "../../api/errors.ts";
import { EntityId, EntityType } from "../../schemas/common.ts";
import { intParam } from "./query.ts";
import { logLine } from "../../log.ts";
import { entityPrefix, PayloadReader } from "../../payloads.ts";
import type { EntityRef } from "../../types.ts";
import type { Handlers } from "../register.ts";
import type { entityRoutes } from "../../api/entities.ts";

const DEFAULT_PAGE = 100;
const MAX_PAGE = 500;

/** The entity a path names; 404 for one no entity can have. */
export function entityFromPath(request: AuthedRequest): EntityRef {
  const { type, id } = request.params;
  // A malformed type or id cannot name an entity that ever received an event.
  if (!is(type, EntityType) || !is(id, EntityId)) throw notFound();
  return { type, id };
}

function notFound(): ApiError {
  return new ApiError(404, "not_found", "No such entity");
}

/** 404 for an entity that never had an event, 410 for one erased on request. */
export async function missingEntity(actor: Pick<EntityActorRpc, "erasedAt">): Promise<ApiError> {
  const erasedAt = await actor.erasedAt();
  return erasedAt === null ? notFound() : new ApiError(410, "gone", `The entity was erased at ${new Date(erasedAt).toISOString()}`);
}

/** `GET /v1/entities/{type}/{id}`. */
export async function getEntity(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const actor = entityActor(env, request.space, entityFromPath(request));
  const view = await actor.getEntity();
  if (!view) throw await missingEntity(actor);
  return Response.json(view);
}

/** Events read per page of an export; the actor also cuts a page at its byte budget (MAX_PAGE_BYTES). */
const EXPORT_PAGE = 500;

/**
 * `GET /v1/entities/{type}/{id}/export`: state, the whole log with deliveries, dead letters and
 * scheduled events, as one JSON document streamed a page of the log at a time, so an entity of
 * any size exports (one RPC answer may carry at most 32 MiB; the whole log once went in one).
 * Once streaming has begun a failure can only cut the document short, never turn it into a 503.
 */
export async function exportEntity(request: AuthedRequest, env: Cloudflare.Env, ctx: ExecutionContext): Promise<Response> {
  const actor = entityActor(env, request.space, entityFromPath(request));
  const head = await actor.exportHead();
  if (!head) throw await missingEntity(actor);
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  const write = (text: string) => writer.write(encoder.encode(text));
  const { compacted, deadLetters, scheduled, state, ...entity } = head;
  const prefix = entityPrefix(request.space, head.entity);
  ctx.waitUntil(
    (async () => {
      try {
        // The head's fields; the state a value at a time (values kept in R2 read back one by one);
        // then the log a page at a time; then what follows it in EntityExport.
        await write(`${JSON.stringify(entity).slice(0, -1)},"state":{`);
        let field = 0;
        for (const [name, value] of Object.entries(state)) {
          // A reader per value: one that cached every object would hold the whole state at once.
          const whole = await new PayloadReader(env, prefix).state({ [name]: value }, true);
          await write(`${field++ === 0 ? "" : ","}${JSON.stringify(name)}:${JSON.stringify(whole[name] ?? null)}`);
        }
        await write(`},"events":[`);
        let after = 0;
        let first = true;
        for (;;) {
          const page = await actor.listEvents(after, EXPORT_PAGE);
          if (!page) break;
          for (const event of page.events) {
            await write(`${first ? "" : ","}${JSON.stringify(event)}`);
            first = false;
          }
          if (page.next === null) break;
          after = Number(page.next);
        }
        await write(`],"compacted":${compacted},"deadLetters":${JSON.stringify(deadLetters)},"scheduled":${JSON.stringify(scheduled)},"exportedAt":${JSON.stringify(new Date().toISOString())}}`);
        await writer.close();
      } catch (err) {
        logLine(env, "error", "export cut short", { tenant: request.tenant, entity: entity.entity, error: String(err) });
        await writer.abort(err);
      }
    })(),
  );
  return new Response(readable, { headers: { "content-type": "application/json" } });
}

/** `GET /v1/entities/{type}/{id}/scheduled`: events the entity will append later, soonest first. */
export async function listScheduled(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const actor = entityActor(env, request.space, entityFromPath(request));
  const scheduled = await actor.scheduledEvents();
  if (!scheduled) throw await missingEntity(actor);
  return Response.json({ scheduled: scheduled.map((s) => ({ id: s.id, type: s.type, deliverAt: new Date(s.deliverAt).toISOString() })) });
}

/** `DELETE /v1/entities/{type}/{id}/scheduled/{eventId}`: cancels one before it is appended; 404 once it was. */
export async function cancelScheduled(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const actor = entityActor(env, request.space, entityFromPath(request));
  const cancelled = await actor.cancelScheduled(request.params.eventId ?? "");
  if (cancelled === null) throw await missingEntity(actor);
  if (!cancelled) throw new ApiError(404, "not_found", "No such scheduled event (it may have been appended already)");
  return new Response(null, { status: 204 });
}

/**
 * `DELETE /v1/entities/{type}/{id}`: erases the entity's storage, D1 rows and dead letters and
 * leaves a tombstone: `GET` answers `410 gone` afterwards and new events `410 entity_erased`.
 */
export async function deleteEntity(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const actor = entityActor(env, request.space, entityFromPath(request));
  const outcome = await actor.eraseEntity();
  if (outcome === "missing") throw notFound();
  if (outcome === "gone") throw await missingEntity(actor);
  return new Response(null, { status: 204 });
}

/** `GET /v1/entities/{type}/{id}/events?after=&limit=`. */
export async function getEntityEvents(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const entity = entityFromPath(request);
  const after = intParam(request, "after", 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = intParam(request, "limit", DEFAULT_PAGE, 1, MAX_PAGE);
  const actor = entityActor(env, request.space, entity);
  const page = await actor.listEvents(after, limit);
  if (!page) throw await missingEntity(actor);
  return Response.json(page);
}

/** This file's routes (src/api/entities.ts), by name. */
export const entityHandlers = {
  getEntity,
  deleteEntity,
  getEntityEvents,
  exportEntity,
  listScheduled,
  cancelScheduled,
} satisfies Handlers<typeof entityRoutes>;
