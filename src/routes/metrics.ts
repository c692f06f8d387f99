import type { IRequest } from "itty-router";
import { directory, tenantActor } from "../actors";
import { authenticate, authenticateAdmin, type AuthedRequest } from "../auth";
import { tenants } from "../config";
import { ApiError } from "../errors";
import { CONTENT_TYPE, renderMetrics } from "../metrics/exposition";
import { flushMetrics } from "../metrics/record";

/**
 * `GET /metrics`: Prometheus text. A tenant's key sees its own series; the operator's admin key
 * sees every tenant's (stored and TENANTS). This isolate's unflushed counts go first, so what a
 * scrape shows lags only the counts other isolates have not flushed yet (at most 10 s while
 * they work).
 */
export async function getMetrics(request: IRequest, env: Cloudflare.Env): Promise<Response> {
  const names = (await isAdmin(request, env)) ? await everyTenant(env) : [await tenantOf(request, env)];
  const snapshots = await Promise.all(
    names.map(async (tenant) => {
      await flushMetrics(env, tenant, true);
      return { tenant, snapshot: await tenantActor(env, tenant).metrics() };
    }),
  );
  return new Response(renderMetrics(snapshots), { headers: { "content-type": CONTENT_TYPE } });
}

async function isAdmin(request: IRequest, env: Cloudflare.Env): Promise<boolean> {
  try {
    // Quietly: a tenant key is not an admin key, and must not count as a failed attempt.
    await authenticateAdmin(request, env, { quiet: true });
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return false;
    throw err;
  }
}

async function tenantOf(request: IRequest, env: Cloudflare.Env): Promise<string> {
  await authenticate(request, env);
  return (request as AuthedRequest).tenant;
}

async function everyTenant(env: Cloudflare.Env): Promise<string[]> {
  const stored = (await directory(env).list()).filter((t) => t.status === "active").map((t) => t.name);
  return [...new Set([...Object.keys(tenants(env).tenants), ...stored])].sort();
}
