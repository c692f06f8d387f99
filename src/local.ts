// Local development's grants: the development admin key, the demo tenant, private destinations and
// the development secrets key. They follow from the operator's own configuration, never from
// anything a request says: `LOCAL_DEV=1` is set on the command line by `npm start` and the tests
// (never in wrangler.jsonc, so `wrangler deploy` never ships it). The request's host must also be
// a loopback name, a second fence for a development server exposed with `--ip 0.0.0.0`; on its
// own the host is no proof, since a remote peer chooses the Host header it sends.

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** The deployment is a local development server (`LOCAL_DEV=1`, set by `npm start`). */
export function isLocalDeployment(env: Pick<Cloudflare.Env, "LOCAL_DEV">): boolean {
  return env.LOCAL_DEV === "1";
}

/** A request that local development's grants apply to: a local deployment, addressed to loopback. */
export function isLocalRequest(env: Pick<Cloudflare.Env, "LOCAL_DEV">, request: Request): boolean {
  return isLocalDeployment(env) && LOOPBACK_HOSTS.has(new URL(request.url).hostname);
}

/** Tenants may point destinations and endpoints at loopback and private addresses (`ALLOW_PRIVATE_DESTINATIONS=1`). */
export function allowsPrivateDestinations(env: Pick<Cloudflare.Env, "ALLOW_PRIVATE_DESTINATIONS">): boolean {
  return env.ALLOW_PRIVATE_DESTINATIONS === "1";
}
