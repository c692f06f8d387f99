// `/v1/destinations`: where the tenant's own handlers send (Slack, email, CRM, AI), set by the
// tenant with its own key. Secrets are sealed at rest and shown masked.
import { validate, type Struct } from "superstruct";
import { tenantActor } from "../actors";
import type { AuthedRequest } from "../auth";
import { tenantConfig } from "../config";
import { DESTINATION_KINDS, DESTINATION_SCHEMAS, SECRET_FIELDS, type DestinationKind, type Destinations } from "../control/model";
import { forgetTenant, freshTenantRuntime } from "../control/runtime";
import { maskSecret } from "../control/secrets";
import { ApiError } from "../errors";
import { readJsonBody } from "../request-body";
import { toIssues } from "../schemas/envelope";
import { checkUrl, notFound, requireSecretsKey, staleTenant } from "./control-body";

function kindOf(request: AuthedRequest): DestinationKind {
  const kind = DESTINATION_KINDS.find((k) => k === request.params.kind);
  if (!kind) throw notFound(`destination kind (one of ${DESTINATION_KINDS.join(", ")})`);
  return kind;
}

/** A destination as the API shows it: every secret field masked. */
function masked(kind: DestinationKind, destination: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...destination };
  for (const field of SECRET_FIELDS[kind]) if (typeof out[field] === "string") out[field] = maskSecret(out[field]);
  return out;
}

/** `GET /v1/destinations`: the tenant's own destinations (stored, or from TENANTS), masked. */
export async function getDestinations(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const stored = (await freshTenantRuntime(env, request.tenant)).destinations;
  const fixed = tenantConfig(env, request.tenant)?.destinations ?? {};
  const all: Destinations = { ...fixed, ...stored };
  const out: Record<string, unknown> = {};
  for (const kind of DESTINATION_KINDS) {
    const destination = all[kind];
    if (destination) out[kind] = masked(kind, destination);
  }
  return Response.json({ destinations: out });
}

/** `PUT /v1/destinations/{kind}`: sets (replaces) one destination. */
export async function putDestination(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  const kind = kindOf(request);
  // Widened to one struct type: each kind's struct validates into an object of that kind.
  const schema = DESTINATION_SCHEMAS[kind] as Struct<object, unknown>;
  const [error, value] = validate(await readJsonBody(request, env), schema);
  if (error) throw new ApiError(400, "invalid_request", `The ${kind} destination is invalid`, toIssues(error));
  // Every kind's schema has an http(s) `url`.
  checkUrl(env, request, (value as { url: string }).url);
  requireSecretsKey(env, request);
  if (!(await tenantActor(env, request.tenant).putDestination(request.space, kind, value))) throw staleTenant();
  forgetTenant(request.tenant);
  return Response.json(masked(kind, value));
}

/**
 * `DELETE /v1/destinations/{kind}`: the handler skips from then on, or uses the deployment's
 * variables where the tenant inherits them (src/control/destinations.ts).
 */
export async function deleteDestination(request: AuthedRequest, env: Cloudflare.Env): Promise<Response> {
  if ((await tenantActor(env, request.tenant).deleteDestination(request.space, kindOf(request))) === null) throw staleTenant();
  forgetTenant(request.tenant);
  return new Response(null, { status: 204 });
}
