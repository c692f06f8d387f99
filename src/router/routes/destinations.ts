// `/v1/destinations`: where the tenant's own handlers send (one destination per kind of the table
// in src/handlers/kinds.ts), set by the tenant with its own key. Secrets are sealed at rest and shown masked.
import { validate } from "superstruct";
import { tenantActor } from "../../rpc/actors.ts";
import type { AuthedRequest } from "../auth.ts";
import { forgetTenant, freshTenantConfiguration } from "../../control/runtime.ts";
import { maskSecret } from "../../control/secrets.ts";
import { ApiError } from "../../api/errors.ts";
import type { DestinationKindDef } from "../../handlers/destination-kind.ts";
import { DESTINATION_KINDS, KIND_NAMES, destinationKind } from "../../handlers/kinds.ts";
import { readJsonBody } from "../request-body.ts";
import { toIssues } from "../../schemas/issues.ts";
import { checkUrl, notFound, requireSecretsKey, staleTenant } from "./control-body.ts";
import type { Handlers } from "../register.ts";
import type { destinationRoutes } from "../../api/destinations.ts";

function kindOf(request: AuthedRequest): DestinationKindDef {
  const kind = destinationKind(String(request.params.kind));
  if (!kind) throw notFound(`destination kind (one of ${KIND_NAMES.join(", ")})`);
  return kind;
}

/** A destination as the API shows it: every secret field masked. */
function masked(kind: DestinationKindDef, destination: Record<string, string>): Record<string, string> {
  const out = { ...destination };
  for (const field of kind.fields) if (field.secret && typeof out[field.name] === "string") out[field.name] = maskSecret(out[field.name]!);
  return out;
}

/** `GET /v1/destinations`: the tenant's own destinations (stored, or from TENANTS), masked. */
export async function getDestinations(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const runtime = await freshTenantConfiguration(env, request.tenant);
  const out: Record<string, unknown> = {};
  for (const kind of DESTINATION_KINDS) {
    const destination = runtime.destinations[kind.kind] ?? runtime.fixedDestinations[kind.kind];
    if (destination) out[kind.kind] = masked(kind, destination);
  }
  return Response.json({ destinations: out });
}

/** `PUT /v1/destinations/{kind}`: sets (replaces) one destination. */
export async function putDestination(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const kind = kindOf(request);
  const [error, value] = validate(await readJsonBody(request, env), kind.schema);
  if (error) throw new ApiError(400, "invalid_request", `The ${kind.kind} destination is invalid`, toIssues(error));
  // Only the url is called.
  checkUrl(env, request, value.url);
  requireSecretsKey(env, request);
  if (!(await tenantActor(env, request.tenant).putDestination(request.space, kind.kind, value))) throw staleTenant();
  forgetTenant(request.tenant);
  return Response.json(masked(kind, value));
}

/**
 * `DELETE /v1/destinations/{kind}`: the handler skips from then on, or uses the deployment's
 * variables where the tenant inherits them (src/handlers/destinations.ts).
 */
export async function deleteDestination(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  if ((await tenantActor(env, request.tenant).deleteDestination(request.space, kindOf(request).kind)) === null) throw staleTenant();
  forgetTenant(request.tenant);
  return new Response(null, { status: 204 });
}

/** This file's routes (src/api/destinations.ts), by name. */
export const destinationHandlers = {
  getDestinations,
  putDestination,
  deleteDestination,
} satisfies Handlers<typeof destinationRoutes>;
