// `/v1/settings`: the tenant's retention windows and whether an erased entity may be created again.
import type { AuthedRequest } from "../auth.ts";
import { forgetTenant } from "../../control/runtime.ts";
import { PatchSettings } from "../../control/settings.ts";
import { tenantActor } from "../../rpc/actors.ts";
import { readRequest, staleTenant } from "./control-body.ts";
import type { Handlers } from "../register.ts";
import type { settingsRoutes } from "../../api/settings.ts";

/** `GET /v1/settings`. */
export async function getSettings(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  return Response.json(await tenantActor(env, request.tenant).settings());
}

/** `PATCH /v1/settings`: fields left out keep their value; null clears a retention limit. */
export async function patchSettings(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const patch = await readRequest(request, env, PatchSettings, "settings change");
  const updated = await tenantActor(env, request.tenant).updateSettings(request.space, patch);
  if (!updated) throw staleTenant();
  forgetTenant(request.tenant);
  return Response.json(updated);
}

/** This file's routes (src/api/settings.ts), by name. */
export const settingsHandlers = {
  getSettings,
  updateSettings: patchSettings,
} satisfies Handlers<typeof settingsRoutes>;
