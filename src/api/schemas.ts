// The API's component schemas: the shapes its routes take and answer (src/api/*.ts name them with
// `ref`). Some are made from the registries (event types, destination kinds, signature schemes), so
// this module, with openapi.ts, is the one part of src/api/ that reads Worker code.
import { registeredTypes } from "../events/registry.ts";
import { DESTINATION_KINDS, KIND_NAMES } from "../handlers/kinds.ts";
import { SCHEME_NAMES } from "../sources/schemes.ts";
import { SETTINGS, type SettingDef } from "../control/settings.ts";
import { ERROR_CODES } from "./errors.ts";
import { dateTime, int, nullable, obj, ref, str, type Schema } from "./route.ts";

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

function destinationSchemaName(kind: string): string {
  return `${kind[0]!.toUpperCase()}${kind.slice(1)}Destination`;
}

/** One setting's schema: a bounded whole number or null, or a boolean. */
function settingSchema(setting: SettingDef): Schema {
  const schema = setting.kind === "limit" ? nullable({ type: "integer", minimum: setting.min, maximum: setting.max }) : { type: "boolean" };
  return { ...schema, description: setting.describe };
}

/** The settings document (every field), or a change to it (any field). */
function settingsSchema(change: boolean): Schema {
  const groups = [...new Set(SETTINGS.map((s) => s.group))];
  const group = (g: string) => {
    const fields = SETTINGS.filter((s) => s.group === g);
    return obj(Object.fromEntries(fields.map((s) => [s.field, settingSchema(s)])), change ? fields.map((s) => s.field) : []);
  };
  return obj(Object.fromEntries(groups.map((g) => [g, group(g)])), change ? groups : []);
}

export const SCHEMAS: Record<string, Schema> = {
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
  DestinationKind: { type: "string", enum: [...KIND_NAMES] },
  DestinationInput: { anyOf: KIND_NAMES.map((kind) => ref(destinationSchemaName(kind))) },
  EndpointChange: obj({ url: str, eventTypes: nullable({ type: "array", items: str }), description: nullable(str), status: { type: "string", enum: ["active", "disabled"] }, ...CONTROL_FIELDS }, [
    "url",
    "eventTypes",
    "description",
    "status",
    ...Object.keys(CONTROL_FIELDS),
  ]),
  Destinations: obj({
    destinations: obj(Object.fromEntries(KIND_NAMES.map((kind) => [kind, ref(destinationSchemaName(kind))])), [...KIND_NAMES]),
  }),
  Endpoint: obj({ ...ENDPOINT_FIELDS }),
  NewEndpoint: obj({ ...ENDPOINT_FIELDS, secret: { type: "string", pattern: "^whsec_" }, backfillId: str }, ["backfillId"]),
  // From each setting's declaration (src/control/settings.ts).
  Settings: settingsSchema(false),
  SettingsChange: settingsSchema(true),
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

