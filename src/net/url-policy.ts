// Where tenants may send: the outbound address policy for the URLs a tenant sets (destinations,
// endpoints). Checked when the URL is set and again before every call, so a URL stored before the
// policy, or a policy tightened since, never reaches a call. Addresses are classified by ipaddr.js
// (see docs/decisions.md, "Trust between tenants"); names are classified by their suffix. A name that resolves to a private
// address cannot be caught here (Workers have no DNS API); deployed, Cloudflare's own egress does
// not reach private networks.
import ipaddr from "ipaddr.js";
import { allowsPrivateDestinations } from "../local.ts";

/** Cloud metadata services, by name and by address: never a destination. */
const METADATA_NAMES = new Set(["metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"]);
const METADATA_ADDRESSES = new Set(["169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254"]);

/** Ranges refused always: link-local (metadata lives there), multicast and broadcast. */
const ALWAYS_REFUSED = new Set(["linkLocal", "multicast", "broadcast"]);
/** Every range but ordinary public unicast: refused unless the deployment allows private destinations. */
const PUBLIC = new Set(["unicast", "global"]);

/** Names that only ever mean this machine or a private network. */
const PRIVATE_SUFFIXES = ["localhost", "local", "internal", "home.arpa"];

interface UrlPolicyContext {
  env: Pick<Cloudflare.Env, "ALLOW_PRIVATE_DESTINATIONS">;
  /** The deployment's own host (the request's), when known: a tenant URL naming it is refused like a private one. */
  ownHost?: string;
}

/** Why the policy refuses `url` as a tenant's destination, or null when it may be called. */
export function refusedUrl(url: string, context: UrlPolicyContext): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "not a URL";
  }
  const host = parsed.hostname.toLowerCase().replace(/\.$/, "");
  const bare = host.startsWith("[") ? host.slice(1, -1) : host;
  const privateAllowed = allowsPrivateDestinations(context.env);
  if (METADATA_NAMES.has(bare) || METADATA_ADDRESSES.has(bare)) return "a cloud metadata address";
  if (ipaddr.isValid(bare)) {
    let address = ipaddr.parse(bare);
    // An IPv4 address written as IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it is.
    if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
    if (METADATA_ADDRESSES.has(address.toString())) return "a cloud metadata address";
    const range = address.range();
    if (ALWAYS_REFUSED.has(range)) return `a ${range} address`;
    if (!PUBLIC.has(range) && !privateAllowed) return `a ${range} address (private destinations are not allowed)`;
    return null;
  }
  if (privateAllowed) return null;
  if (PRIVATE_SUFFIXES.some((suffix) => bare === suffix || bare.endsWith(`.${suffix}`))) return "a private name (private destinations are not allowed)";
  if (context.ownHost !== undefined && bare === context.ownHost.toLowerCase().replace(/^\[|\]$/g, "")) {
    return "this deployment's own host (private destinations are not allowed)";
  }
  return null;
}
