// The whole HTTP API, one table: every route by name, from one table per routes file (a
// file here for each file of src/router/routes/). The router registers it, and the OpenAPI
// document and the typed client are made from it (src/api/route.ts says how).
import { adminRoutes } from "./admin.ts";
import { backfillRoutes } from "./backfills.ts";
import { deadLetterRoutes } from "./dead-letters.ts";
import { destinationRoutes } from "./destinations.ts";
import { endpointRoutes } from "./endpoints.ts";
import { entityRoutes } from "./entities.ts";
import { eventRoutes } from "./events.ts";
import { liveRoutes } from "./live.ts";
import { metricRoutes } from "./metrics.ts";
import { operationRoutes } from "./operations.ts";
import { pausingRoutes } from "./pausing.ts";
import { scheduleRoutes } from "./schedules.ts";
import { settingsRoutes } from "./settings.ts";
import { sourceSettingRoutes } from "./source-settings.ts";
import { sourceRoutes } from "./sources.ts";

export const API = {
  ...eventRoutes,
  ...sourceRoutes,
  ...entityRoutes,
  ...pausingRoutes,
  ...backfillRoutes,
  ...deadLetterRoutes,
  ...settingsRoutes,
  ...scheduleRoutes,
  ...destinationRoutes,
  ...endpointRoutes,
  ...sourceSettingRoutes,
  ...adminRoutes,
  ...liveRoutes,
  ...metricRoutes,
  ...operationRoutes,
};

export type Api = typeof API;
export type RouteName = keyof Api;
