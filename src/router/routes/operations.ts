// Running it: liveness, this API's own document, and who a key is.
import { openApiDocument } from "../../api/openapi.ts";
import type { operationRoutes } from "../../api/operations.ts";
import type { Handlers } from "../register.ts";
import { whoami } from "../auth.ts";

/** This file's routes (src/api/operations.ts), by name. */
export const operationHandlers = {
  healthz: () => Response.json({ ok: true }),
  openapi: () => Response.json(openApiDocument()),
  whoami,
} satisfies Handlers<typeof operationRoutes>;
