// Every route's handler, by the route's name: each routes file's map, for the table in
// src/api/index.ts. `tsc` fails while a route has no handler here or a handler no route.
import type { Api } from "../api/index.ts";
import type { Handlers } from "./register.ts";
import { adminHandlers } from "./routes/admin.ts";
import { backfillHandlers } from "./routes/backfills.ts";
import { deadLetterHandlers } from "./routes/dead-letters.ts";
import { destinationHandlers } from "./routes/destinations.ts";
import { endpointHandlers } from "./routes/endpoints.ts";
import { entityHandlers } from "./routes/entities.ts";
import { eventHandlers } from "./routes/events.ts";
import { liveHandlers } from "./routes/live.ts";
import { metricHandlers } from "./routes/metrics.ts";
import { operationHandlers } from "./routes/operations.ts";
import { pausingHandlers } from "./routes/pausing.ts";
import { scheduleHandlers } from "./routes/schedules.ts";
import { settingsHandlers } from "./routes/settings.ts";
import { sourceSettingHandlers } from "./routes/source-settings.ts";
import { sourceHandlers } from "./routes/sources.ts";

export const HANDLERS: Handlers<Api> = {
  ...eventHandlers,
  ...sourceHandlers,
  ...entityHandlers,
  ...pausingHandlers,
  ...backfillHandlers,
  ...deadLetterHandlers,
  ...settingsHandlers,
  ...scheduleHandlers,
  ...destinationHandlers,
  ...endpointHandlers,
  ...sourceSettingHandlers,
  ...adminHandlers,
  ...liveHandlers,
  ...metricHandlers,
  ...operationHandlers,
};
