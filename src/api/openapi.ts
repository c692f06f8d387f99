// The API's OpenAPI 3.1 document, served at GET /openapi.json. Written as code so each shape is
// stated once; `openapi.json` in the repository is this document as JSON (npm run openapi writes
// it; a test fails when they differ), and the end-to-end tests validate every answer they get
// from the server against it (test/e2e/setup.ts), so it cannot drift from the code.
import { SCHEME_NAMES } from "../sources/schemes.ts";
import { registeredTypes } from "../events/registry.ts";
import { DESTINATION_KINDS, KIND_NAMES } from "../handlers/kinds.ts";
import { handlerTable } from "../handlers/registry.ts";
import { ERROR_CODES } from "./errors.ts";
import { VERSION } from "../version.ts";

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str: Schema = { type: "string" };
const dateTime: Schema = { type: "string", format: "date-time" };
const int: Schema = { type: "integer", minimum: 0 };
const nullable = (schema: Schema): Schema => ({ oneOf: [schema, { type: "null" }] });
/** An object with exactly these properties, all required unless listed in `optional`. */
/** Rate and concurrency limits, on destinations and endpoints (src/delivery/gate.ts). */
const CONTROL_FIELDS: Record<string, Schema> = {
  rateLimit: {
    ...nullable({ type: "object", properties: { perSecond: { type: "number", exclusiveMinimum: 0, maximum: 1000 } }, required: ["perSecond"], additionalProperties: false }),
    description: "most calls a second, across every entity of the tenant; held calls wait and use no attempt",
  },
  maxConcurrency: { ...nullable({ type: "integer", minimum: 1, maximum: 1000 }), description: "most calls in flight at once, across every entity of the tenant" },
};
/** An endpoint's fields as every answer about it has them. */
const ENDPOINT_FIELDS: Record<string, Schema> = {
  id: str,
  url: str,
  eventTypes: nullable({ type: "array", items: str }),
  description: nullable(str),
  backfill: { type: "boolean" },
  status: { type: "string", enum: ["active", "disabled"], description: "disabled: it failed every call for ENDPOINT_DISABLE_AFTER_MS (or was disabled by hand); its deliveries hold until PATCH {\"status\":\"active\"}" },
  lastSuccessAt: nullable(dateTime),
  failingSince: { ...nullable(dateTime), description: "when its current run of failures began (its health rides on the metrics flushes: up to 10 s behind)" },
  ...CONTROL_FIELDS,
  createdAt: dateTime,
};

function obj(properties: Record<string, Schema>, optional: string[] = [], extra = false): Schema {
  return { type: "object", properties, required: Object.keys(properties).filter((k) => !optional.includes(k)), additionalProperties: extra };
}


function destinationSchemaName(kind: string): string {
  return `${kind[0]!.toUpperCase()}${kind.slice(1)}Destination`;
}

/** Which handlers each event type runs, in order: the registry's (src/handlers/registry.ts). */
function handlerOrder(): string {
  return handlerTable()
    .map((row) => `\`${row.type}\`${row.internal ? " (internal)" : ""}: ${row.handlers.join(", ")}`)
    .join("; ");
}

const schemas: Record<string, Schema> = {
  Error: obj({
    error: obj({ code: { type: "string", enum: [...ERROR_CODES] }, message: str, issues: { type: "array", items: obj({ path: str, message: str }) } }, ["issues"]),
  }),
  EntityRef: obj({ type: str, id: str }),
  Envelope: obj(
    {
      id: { type: "string", minLength: 1, maxLength: 200 },
      type: { type: "string", enum: registeredTypes() },
      entity: ref("EntityRef"),
      occurredAt: { oneOf: [dateTime, { type: "integer" }] },
      deliverAt: { oneOf: [dateTime, { type: "integer" }] },
      data: { type: "object", required: ["id"] },
    },
    ["id", "entity", "occurredAt", "deliverAt"],
  ),
  IngestResult: {
    oneOf: [
      obj({ id: str, entity: ref("EntityRef"), status: { type: "string", enum: ["accepted", "duplicate"] }, seq: { type: "integer", minimum: 1 } }),
      obj({ id: str, entity: ref("EntityRef"), status: { type: "string", enum: ["scheduled", "duplicate"] }, deliverAt: dateTime }),
      // The repeat of an event compacted away by retention (GET/PATCH /v1/settings): its seq is no longer kept.
      obj({ id: str, entity: ref("EntityRef"), status: { const: "duplicate" } }),
    ],
  },
  BatchResults: obj({ results: { type: "array", items: { oneOf: [ref("IngestResult"), ref("Error")] } } }),
  Delivery: obj({
    handler: str,
    status: { type: "string", enum: ["pending", "in_flight", "paused", "succeeded", "skipped", "dead"] },
    attempts: int,
    lastError: nullable(str),
    nextAttemptAt: nullable(dateTime),
    completedAt: nullable(dateTime),
  }),
  Entity: obj({
    entity: ref("EntityRef"),
    state: { type: "object" },
    version: int,
    createdAt: dateTime,
    updatedAt: dateTime,
    events: obj({ count: int, lastSeq: int, compacted: int }),
    deliveries: obj({ pending: int, succeeded: int, skipped: int, dead: int }),
    storageBytes: { ...int, description: "the entity's stored size (its SQLite database), which storage is billed on" },
  }),
  Event: obj(
    {
      id: str,
      seq: { type: "integer", minimum: 1 },
      type: str,
      occurredAt: dateTime,
      receivedAt: dateTime,
      data: { type: "object" },
      dataError: { type: "string", description: "present when the event's data, kept in R2, can no longer be read (its object gone or changed): `data` is then empty" },
      source: obj({ name: str, deliveryId: str }, ["deliveryId"]),
      deliveries: { type: "array", items: ref("Delivery") },
    },
    ["source", "dataError"],
  ),
  EventPage: obj({ events: { type: "array", items: ref("Event") }, next: nullable(str) }),
  EntityExport: obj({
    entity: ref("EntityRef"),
    state: { type: "object" },
    version: int,
    createdAt: dateTime,
    updatedAt: dateTime,
    events: { type: "array", items: ref("Event") },
    compacted: int,
    deadLetters: { type: "array", items: obj({ id: str, eventId: str, handler: str, attempts: int, lastError: nullable(str), deadAt: dateTime }) },
    scheduled: { type: "array", items: obj({ id: str, type: str, deliverAt: dateTime }) },
    exportedAt: dateTime,
  }),
  DeadLetter: obj({ id: str, entity: ref("EntityRef"), eventId: str, handler: str, attempts: int, lastError: nullable(str), deadAt: dateTime }),
  DeadLetterPage: obj({ deadLetters: { type: "array", items: ref("DeadLetter") }, next: nullable(str) }),
  ReplayFilter: obj({ ids: { type: "array", items: str }, handler: str, entity: ref("EntityRef") }, ["ids", "handler", "entity"]),
  TenantEntry: obj({ name: str, status: { type: "string", enum: ["active", "erasing"] }, createdAt: dateTime }),
  Tenant: obj(
    { name: str, status: { type: "string", enum: ["active", "erasing"] }, createdAt: dateTime, inheritDestinations: { type: "boolean" }, progress: obj({ erased: int, total: int }) },
    ["progress"],
  ),
  TenantDetail: obj(
    {
      name: str,
      status: { type: "string", enum: ["active", "erasing"] },
      createdAt: dateTime,
      inheritDestinations: { type: "boolean" },
      progress: obj({ erased: int, total: int }),
      keys: int,
      entities: int,
    },
    ["progress"],
  ),
  ApiKey: obj({ id: str, label: nullable(str), prefix: str, createdAt: dateTime }),
  NewApiKey: obj({ id: str, key: str, label: nullable(str), prefix: str, createdAt: dateTime }),
  // One schema per destination kind, from its declared fields (src/handlers/kinds.ts).
  ...Object.fromEntries(
    DESTINATION_KINDS.map((k) => [
      destinationSchemaName(k.kind),
      {
        ...obj(
          { ...Object.fromEntries(k.fields.map((f) => [f.name, { type: "string", description: `${f.label}${f.secret ? " (answered masked)" : ""}` }])), ...CONTROL_FIELDS },
          [...k.fields.filter((f) => !f.required).map((f) => f.name), ...Object.keys(CONTROL_FIELDS)],
        ),
        description: k.summary,
      },
    ]),
  ),
  Destinations: obj({
    destinations: obj(Object.fromEntries(KIND_NAMES.map((kind) => [kind, ref(destinationSchemaName(kind))])), [...KIND_NAMES]),
  }),
  Endpoint: obj({ ...ENDPOINT_FIELDS }),
  NewEndpoint: obj({ ...ENDPOINT_FIELDS, secret: { type: "string", pattern: "^whsec_" }, backfillId: str }, ["backfillId"]),
  Settings: obj({
    retention: obj({ days: nullable({ type: "integer", minimum: 1 }), eventsPerEntity: nullable({ type: "integer", minimum: 1 }) }),
    mirror: obj({ events: { type: "boolean", description: "the database handler also writes a row per event to the D1 events table (default false)" } }),
    erasure: obj({ allowRecreate: { type: "boolean" } }),
  }),
  SettingsChange: obj(
    {
      retention: obj({ days: nullable({ type: "integer", minimum: 1, maximum: 36500 }), eventsPerEntity: nullable({ type: "integer", minimum: 1, maximum: 10000000 }) }, ["days", "eventsPerEntity"]),
      erasure: obj({ allowRecreate: { type: "boolean" } }, ["allowRecreate"]),
      mirror: obj({ events: { type: "boolean" } }, ["events"]),
    },
    ["retention", "erasure", "mirror"],
  ),
  Backfill: obj({
    id: str,
    handler: str,
    status: { type: "string", enum: ["running", "done"] },
    entities: obj({ done: int, total: int }),
    events: int,
    eventTypes: nullable({ type: "array", items: str }),
    since: nullable(dateTime),
    createdAt: dateTime,
    finishedAt: nullable(dateTime),
  }),
  SourceMapping: obj({ type: str, types: { type: "object", additionalProperties: str }, data: str, id: str, occurredAt: str }, ["type", "types", "data", "id", "occurredAt"]),
  Source: obj(
    { scheme: { type: "string", enum: SCHEME_NAMES }, secret: str, header: str, mapping: ref("SourceMapping") },
    ["header", "mapping"],
  ),
  ScheduledEvent: { type: "object", properties: { type: str, data: { type: "object", required: ["id"] } }, required: ["type", "data"], additionalProperties: false },
  ScheduleInput: obj(
    { name: str, cron: str, everySeconds: { type: "integer", minimum: 1, maximum: 31536000 }, timezone: str, event: ref("ScheduledEvent") },
    ["name", "cron", "everySeconds", "timezone"],
  ),
  ScheduleChange: obj(
    { name: str, paused: { type: "boolean" }, cron: str, everySeconds: { type: "integer", minimum: 1 }, timezone: str, event: ref("ScheduledEvent") },
    ["name", "paused", "cron", "everySeconds", "timezone", "event"],
  ),
  Schedule: obj(
    {
      id: str,
      name: nullable(str),
      cron: str,
      everySeconds: { type: "integer", minimum: 1 },
      timezone: str,
      event: ref("ScheduledEvent"),
      paused: { type: "boolean" },
      nextAt: nullable(dateTime),
      lastFiredAt: nullable(dateTime),
      lastError: nullable(str),
      createdAt: dateTime,
    },
    ["cron", "everySeconds"],
  ),
  EndpointInput: obj(
    { url: str, eventTypes: nullable({ type: "array", items: str }), description: nullable(str), backfill: { type: "boolean", description: "deliver each entity's whole log to it, in order (a backfill; its id is backfillId), not only events received from now on" }, ...CONTROL_FIELDS },
    ["eventTypes", "description", "backfill", ...Object.keys(CONTROL_FIELDS)],
  ),
};

const json = (schema: Schema, description: string) => ({ description, content: { "application/json": { schema } } });
const error = (description: string) => json(ref("Error"), description);
const noContent = { description: "Done; no body" };
/** The answers every authenticated operation may give besides its own. */
const common = {
  "400": error("A malformed percent-escape in the path (invalid_request)"),
  "401": error("Missing, malformed or unknown key"),
  "429": error("Rate limited; see Retry-After"),
  "503": error("Unavailable; retry after Retry-After"),
};
const withBody = {
  "400": error("Invalid JSON or an invalid request"),
  "413": error("The body is over MAX_BODY_BYTES"),
  "415": error("The body is not application/json"),
};
const body = (schema: Schema) => ({ required: true, content: { "application/json": { schema } } });
const pathParam = (name: string) => ({ name, in: "path", required: true, schema: str });
const queryParam = (name: string, schema: Schema = int) => ({ name, in: "query", required: false, schema });
const tenantAuth = [{ apiKey: [] }];
const adminAuth = [{ adminKey: [] }];

function op(summary: string, responses: Record<string, unknown>, extra: Record<string, unknown> = {}, security: unknown[] = tenantAuth): Record<string, unknown> {
  return { summary, security, ...extra, responses: { ...responses, ...common, "404": error("No such route or resource") } };
}

/** The document. */
export function openApiDocument(): Record<string, unknown> {
  const destination = (kind: string) => ref(destinationSchemaName(kind));
  const paths: Record<string, unknown> = {
    "/v1/events": {
      post: op("Store one event", {
        "202": json(ref("IngestResult"), "Stored (status accepted, with seq), or scheduled for deliverAt (status scheduled)"),
        "200": json(ref("IngestResult"), "A repeat of a known id with the same content (status duplicate)"),
        "409": error("The id is known with different content (id_conflict), or a scheduled event past what its entity may hold (limit_exceeded, MAX_SCHEDULED_PER_ENTITY); nothing stored"),
        "410": error("The entity was erased (entity_erased); nothing stored"),
        "422": error("The type is not registered"),
        ...withBody,
      }, {
        description: `Each type's handlers, in the order they run: ${handlerOrder()}; plus the tenant's endpoints that take the type.`,
        requestBody: body(ref("Envelope")),
        parameters: [{ name: "Idempotency-Key", in: "header", required: false, schema: str }],
      }),
    },
    "/v1/events/batch": {
      post: op("Store up to 100 events, each independent", { "207": json(ref("BatchResults"), "One result per event, in order"), ...withBody }, {
        requestBody: body({ oneOf: [obj({ events: { type: "array", items: ref("Envelope"), maxItems: 100 } }), { type: "array", items: ref("Envelope"), maxItems: 100 }] }),
      }),
    },
    "/v1/sources/{tenant}/{source}": {
      post: op(
        `A provider's signed webhook (${SCHEME_NAMES.join(", ")}), verified with the tenant's source of that name (stored, else in TENANTS) and stored as an event`,
        {
          "202": json(ref("IngestResult"), "Stored"),
          "200": json(ref("IngestResult"), "Duplicate"),
          "409": error("id_conflict"),
          "410": error("The entity was erased (entity_erased)"),
          "422": error("The mapped type is not registered"),
          ...withBody,
        },
        { parameters: [pathParam("tenant"), pathParam("source")], requestBody: body({ type: "object" }) },
        [],
      ),
    },
    "/v1/entities/{type}/{id}": {
      get: op("An entity's state and counters", { "200": json(ref("Entity"), "The entity"), "410": error("Erased (gone)") }, { parameters: [pathParam("type"), pathParam("id")] }),
      delete: op(
        "Erase the entity: its storage, D1 rows and dead letters; a tombstone stays, so GET answers 410 gone and new events 410 entity_erased",
        { "204": noContent, "410": error("Erased before (gone)") },
        { parameters: [pathParam("type"), pathParam("id")] },
      ),
    },
    "/v1/entities/{type}/{id}/scheduled": {
      get: op("Events the entity will append later (scheduled with deliverAt, and its own follow-ups), soonest first", {
        "200": json(obj({ scheduled: { type: "array", items: obj({ id: str, type: str, deliverAt: dateTime }) } }), "Scheduled events"),
        "410": error("Erased (gone)"),
      }, { parameters: [pathParam("type"), pathParam("id")] }),
    },
    "/v1/entities/{type}/{id}/scheduled/{eventId}": {
      delete: op("Cancel a scheduled event before it is appended", { "204": noContent, "410": error("Erased (gone)") }, { parameters: [pathParam("type"), pathParam("id"), pathParam("eventId")] }),
    },
    "/v1/entities/{type}/{id}/export": {
      get: op("Everything the entity holds, as one document: state, every event with its deliveries, dead letters, scheduled events", {
        "200": json(ref("EntityExport"), "The export"),
        "410": error("Erased (gone)"),
      }, { parameters: [pathParam("type"), pathParam("id")] }),
    },
    "/v1/entities/{type}/{id}/pause": {
      post: op(
        "Hold the entity's deliveries (one handler's, or all): they show status paused while events are still stored and merged",
        { "200": json(obj({ paused: { type: "array", items: str } }), "What is paused now"), "410": error("Erased (gone)"), ...withBody },
        { parameters: [pathParam("type"), pathParam("id")], requestBody: { required: false, content: { "application/json": { schema: obj({ handler: str }, ["handler"]) } } } },
      ),
    },
    "/v1/entities/{type}/{id}/resume": {
      post: op(
        "Release held deliveries (one handler's, or all) to drain in seq order",
        { "200": json(obj({ paused: { type: "array", items: str } }), "What stays paused"), "410": error("Erased (gone)"), ...withBody },
        { parameters: [pathParam("type"), pathParam("id")], requestBody: { required: false, content: { "application/json": { schema: obj({ handler: str }, ["handler"]) } } } },
      ),
    },
    "/v1/entities/{type}/{id}/cancel": {
      post: op(
        "End the entity's pending deliveries (one handler's, or all) as skipped, with the reason",
        { "200": json(obj({ cancelled: int }), "How many ended"), "410": error("Erased (gone)"), ...withBody },
        { parameters: [pathParam("type"), pathParam("id")], requestBody: { required: false, content: { "application/json": { schema: obj({ handler: str, reason: nullable(str) }, ["handler", "reason"]) } } } },
      ),
    },
    "/v1/entities/{type}/{id}/replay": {
      post: op(
        "Deliver the entity's events from fromSeq (default 1) to one handler again, in seq order, with their original idempotency keys and the header Edgeflow-Replay: true. Events it has not delivered yet are left to its cursor; a pending retry and a dead letter are left as they are (dead letters have POST /v1/dead-letters/replay)",
        { "202": json(obj({ replayed: int }), "How many deliveries are due again"), "410": error("Erased (gone)"), ...withBody },
        { parameters: [pathParam("type"), pathParam("id")], requestBody: body(obj({ handler: str, fromSeq: { type: "integer", minimum: 1 } }, ["fromSeq"])) },
      ),
    },
    "/v1/backfills": {
      post: op(
        "Replay one handler's events across every entity of the tenant (those of eventTypes, that occurred since since): the tenant's actor walks its entity list a page at a time, 8 entities at once, resumable after a restart; at most 10 run at once",
        { "202": json(ref("Backfill"), "Started"), "422": error("An unregistered event type"), ...withBody },
        { requestBody: body(obj({ handler: str, eventTypes: { type: "array", items: str }, since: { oneOf: [dateTime, { type: "integer", minimum: 0 }] } }, ["eventTypes", "since"])) },
      ),
      get: op("Running backfills and the last 50 finished, newest first", { "200": json(obj({ backfills: { type: "array", items: ref("Backfill") } }), "Backfills") }),
    },
    "/v1/settings": {
      get: op("The tenant's settings: retention windows (null: no limit) and whether an erased entity may be created again", { "200": json(ref("Settings"), "Settings") }),
      patch: op(
        "Change settings; fields left out keep their value, null clears a limit. Events past either retention window that every handler has settled (no pending retry or replay, no dead letter) are compacted away: state stays, and their ids stay known, so a repeat is answered duplicate (with seq 0, and without the content check, as the content is gone). With erasure.allowRecreate, an event for an entity erased on request starts it afresh instead of 410 entity_erased",
        { "200": json(ref("Settings"), "The settings now"), ...withBody },
        { requestBody: body(ref("SettingsChange")) },
      ),
    },
    "/v1/backfills/{id}": {
      get: op("A backfill's progress", { "200": json(ref("Backfill"), "The backfill") }, { parameters: [pathParam("id")] }),
    },
    "/v1/handlers": {
      get: op("Every handler of the tenant (endpoints as endpoint:{id}) and whether it is paused for every entity", {
        "200": json(obj({ handlers: { type: "array", items: obj({ name: str, paused: { type: "boolean" } }) } }), "Handlers"),
      }),
    },
    "/v1/handlers/{handler}/pause": {
      post: op("Hold one handler's deliveries for every entity of the tenant", { "200": json(obj({ handler: str, paused: { const: true } }), "Paused") }, { parameters: [pathParam("handler")] }),
    },
    "/v1/handlers/{handler}/resume": {
      post: op("Release one handler for every entity: every entity is woken and drains in seq order", { "200": json(obj({ handler: str, paused: { const: false } }), "Resumed") }, { parameters: [pathParam("handler")] }),
    },
    "/v1/entities/{type}/{id}/events": {
      get: op("A page of the entity's log, each event with its deliveries", { "200": json(ref("EventPage"), "A page"), "400": error("A bad query parameter"), "410": error("Erased (gone)") }, {
        parameters: [pathParam("type"), pathParam("id"), queryParam("after"), queryParam("limit", { type: "integer", minimum: 1, maximum: 500 })],
      }),
    },
    "/v1/dead-letters": {
      get: op("The tenant's dead letters, oldest first", { "200": json(ref("DeadLetterPage"), "A page"), "400": error("A bad query parameter") }, {
        parameters: [queryParam("limit", { type: "integer", minimum: 1, maximum: 500 }), queryParam("cursor")],
      }),
    },
    "/v1/dead-letters/replay": {
      post: op("Replay dead letters matching every given criterion (all when empty)", { "202": json(obj({ replayed: int }), "How many were replayed"), ...withBody }, {
        requestBody: { required: false, content: { "application/json": { schema: ref("ReplayFilter") } } },
      }),
    },
    "/v1/destinations": {
      get: op("The tenant's own destinations, secrets masked", { "200": json(ref("Destinations"), "Destinations") }),
    },
    "/v1/destinations/{kind}": {
      put: op("Set one destination", { "200": json({ anyOf: KIND_NAMES.map(destination) }, "The destination, masked"), ...withBody }, {
        parameters: [{ name: "kind", in: "path", required: true, schema: { type: "string", enum: [...KIND_NAMES] } }],
        requestBody: body({ anyOf: KIND_NAMES.map(destination) }),
      }),
      delete: op("Remove one destination (the deployment's variables apply again)", { "204": noContent }, {
        parameters: [{ name: "kind", in: "path", required: true, schema: { type: "string", enum: [...KIND_NAMES] } }],
      }),
    },
    "/v1/endpoints": {
      post: op("Register a customer webhook endpoint", { "201": json(ref("NewEndpoint"), "Created; the secret is shown only here"), "409": error("The tenant has MAX_ENDPOINTS endpoints (limit_exceeded)"), "422": error("An unregistered event type"), ...withBody }, {
        requestBody: body(ref("EndpointInput")),
      }),
      get: op("The tenant's endpoints", { "200": json(obj({ endpoints: { type: "array", items: ref("Endpoint") } }), "Endpoints") }),
    },
    "/v1/endpoints/{id}": {
      get: op("One endpoint", { "200": json(ref("Endpoint"), "The endpoint") }, { parameters: [pathParam("id")] }),
      patch: op("Change an endpoint; {\"status\":\"active\"} re-enables a disabled one and every entity drains what it held, in order", { "200": json(ref("Endpoint"), "The endpoint"), "422": error("An unregistered event type"), ...withBody }, {
        parameters: [pathParam("id")],
        requestBody: body({
          ...obj({ url: str, eventTypes: nullable({ type: "array", items: str }), description: nullable(str), status: { type: "string", enum: ["active", "disabled"] }, ...CONTROL_FIELDS }, [
            "url", "eventTypes", "description", "status", ...Object.keys(CONTROL_FIELDS),
          ]),
        }),
      }),
      delete: op("Delete an endpoint; what it had not delivered ends skipped", { "204": noContent }, { parameters: [pathParam("id")] }),
    },
    "/v1/endpoints/{id}/rotate-secret": {
      post: op("A new signing secret for later deliveries", { "200": json(obj({ secret: { type: "string", pattern: "^whsec_" } }), "The new secret") }, { parameters: [pathParam("id")] }),
    },
    "/v1/sources": {
      get: op("The tenant's signed sources (stored over TENANTS ones of the same name), secrets masked", {
        "200": json(obj({ sources: { type: "object", additionalProperties: ref("Source") } }), "Sources"),
      }),
    },
    "/v1/schedules": {
      post: op(
        "A recurring event: cron (5 fields, or 6 with seconds first) or everySeconds, in an IANA time zone (default UTC). Each firing sends the event with id edgeflow:schedule:{id}:{firingEpochMs} and occurredAt the firing time; a firing missed while the tenant's actor was not running fires once on wake-up",
        { "201": json(ref("Schedule"), "Created, with its first nextAt"), "409": error("The tenant has 100 schedules (limit_exceeded)"), "422": error("The event's type is not registered"), ...withBody },
        { requestBody: body(ref("ScheduleInput")) },
      ),
      get: op("The tenant's schedules", { "200": json(obj({ schedules: { type: "array", items: ref("Schedule") } }), "Schedules") }),
    },
    "/v1/schedules/{id}": {
      get: op("One schedule", { "200": json(ref("Schedule"), "The schedule") }, { parameters: [pathParam("id")] }),
      patch: op(
        "Pause or resume it, or change what and when; nextAt is computed again from now",
        { "200": json(ref("Schedule"), "The schedule"), ...withBody },
        { parameters: [pathParam("id")], requestBody: body(ref("ScheduleChange")) },
      ),
      delete: op("Remove a schedule", { "204": noContent }, { parameters: [pathParam("id")] }),
    },
    "/v1/sources/{name}": {
      put: op(
        "Set a signed source; POST /v1/sources/{tenant}/{name} verifies with it at once",
        { "200": json(ref("Source"), "The source, secret masked"), "409": error("A new source past MAX_SOURCES (limit_exceeded); replacing one is always allowed"), ...withBody },
        { parameters: [pathParam("name")], requestBody: body(ref("Source")) },
      ),
      delete: op("Remove a signed source; later posts to it answer 401 invalid_signature", { "204": noContent }, { parameters: [pathParam("name")] }),
    },
    "/v1/admin/tenants": {
      post: op("Create a stored tenant", { "201": json(ref("Tenant"), "Created"), "409": error("tenant_exists"), ...withBody }, { requestBody: body(obj({ name: str })) }, adminAuth),
      get: op("The stored tenants", { "200": json(obj({ tenants: { type: "array", items: ref("TenantEntry") } }), "Tenants") }, {}, adminAuth),
    },
    "/v1/admin/tenants/{name}": {
      get: op("One stored tenant, with erasure progress while erasing", { "200": json(ref("TenantDetail"), "The tenant") }, { parameters: [pathParam("name")] }, adminAuth),
      patch: op(
        "Whether the tenant's handlers use the deployment-wide destinations where it has none of its own (off unless set)",
        { "200": json(ref("TenantDetail"), "The tenant"), ...withBody },
        { parameters: [pathParam("name")], requestBody: body(obj({ inheritDestinations: { type: "boolean" } }, ["inheritDestinations"])) },
        adminAuth,
      ),
      delete: op("Erase the tenant and everything it owns", { "202": json(obj({ name: str, status: { const: "erasing" } }), "Erasing") }, { parameters: [pathParam("name")] }, adminAuth),
    },
    "/v1/admin/tenants/{name}/keys": {
      post: op("Create an API key; it is shown only here", { "201": json(ref("NewApiKey"), "Created"), ...withBody }, {
        parameters: [pathParam("name")],
        requestBody: body(obj({ label: str }, ["label"])),
      }, adminAuth),
      get: op("The tenant's keys, by id, label and prefix", { "200": json(obj({ keys: { type: "array", items: ref("ApiKey") } }), "Keys") }, { parameters: [pathParam("name")] }, adminAuth),
    },
    "/v1/admin/tenants/{name}/keys/{id}": {
      delete: op("Revoke a key", { "204": noContent }, { parameters: [pathParam("name"), pathParam("id")] }, adminAuth),
    },
    "/healthz": { get: { summary: "Liveness", security: [], responses: { "200": json(obj({ ok: { const: true } }), "Up") } } },
    "/openapi.json": { get: { summary: "This document", security: [], responses: { "200": json({ type: "object" }, "OpenAPI 3.1") } } },
    "/v1/live": {
      get: op(
        "The live feed, as a WebSocket: JSON messages {kind:'event'|'delivery',…} while connected. Open it with a ticket from POST /v1/live/ticket offered as the subprotocol ticket.{ticket} beside edgeflow.live (or an Authorization header); a key offered as a subprotocol is refused. At most 20 watchers per tenant (429 past it). Closed with 4401 when the key that opened it is revoked, 4403 when the admin key changes, 4404 when the tenant is deleted.",
        { "101": { description: "Switching to the WebSocket" }, "426": error("Not a WebSocket upgrade") },
      ),
    },
    "/v1/live/ticket": {
      post: op("A single-use ticket (valid 60 s, bound to the caller's key) to open the live feed", {
        "200": json(obj({ ticket: str, expiresAt: dateTime }), "The ticket"),
      }),
    },
    "/v1/whoami": {
      get: op(
        "Which kind of key this is: the operator's admin key, or a tenant's (and which tenant)",
        { "200": json({ oneOf: [obj({ role: { const: "admin" } }), obj({ role: { const: "tenant" }, tenant: str })] }, "The caller") },
        {},
        [...tenantAuth, ...adminAuth],
      ),
    },
    "/v1/metrics": {
      get: op("The tenant's metrics as JSON (the dashboard's charts)", {
        "200": json(
          obj({
            minutes: { type: "array", items: obj({ minute: dateTime, byType: { type: "object", additionalProperties: int } }) },
            deliveries: { type: "object", additionalProperties: { type: "object", additionalProperties: int } },
            deadLettersOpen: { type: "object", additionalProperties: int },
            latency: { type: "object", additionalProperties: obj({ count: int, p50: nullable({ type: "number" }), p99: nullable({ type: "number" }) }) },
          }),
          "Events per minute by type (last hour), deliveries by handler and outcome, open dead letters, latency quantiles (seconds)",
        ),
      }),
    },
    "/metrics": {
      get: op(
        "Prometheus metrics: a tenant key sees its own series, the admin key every tenant's",
        { "200": { description: "Text exposition format 0.0.4", content: { "text/plain": { schema: str } } } },
        {},
        [...tenantAuth, ...adminAuth],
      ),
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "edgeflow",
      version: VERSION,
      description: "Reliable, ordered, effectively-once webhook event pipeline on Cloudflare Workers. Times are ISO-8601; every error is {error:{code,message,issues?}}. Every tenant route also takes the operator's admin key with the header Edgeflow-Tenant: {name}, acting as that tenant (the dashboard's tenant picker); a tenant that does not exist is 404.",
    },
    servers: [{ url: "http://localhost:8787", description: "npm start" }],
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "A tenant's API key" },
        adminKey: { type: "http", scheme: "bearer", description: "The operator's ADMIN_API_KEY" },
      },
    },
    paths,
  };
}
