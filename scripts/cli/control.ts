// The control-plane commands: tenants and keys (with the operator's admin key), destinations and
// endpoints (with the tenant's own key).
import { Argument, Option, type Command } from "commander";
import { KIND_FORMS } from "../lib/registry.ts";
import { type Answered, type ApiKeyInfo, type EndpointAnswer, type StoredSource, type TenantView } from "../../src/control/model.ts";
import { SCHEME_NAMES } from "../../src/sources/schemes.ts";
import { CliError } from "./client.ts";
import { contextOf } from "./context.ts";
import { print, table, time } from "./output.ts";

type Tenant = TenantView & { keys?: number; entities?: number };
type Key = Answered<ApiKeyInfo> & { key?: string };
type Endpoint = EndpointAnswer & { secret?: string; backfillId?: string };

const seg = encodeURIComponent;

export function registerControlCommands(program: Command): void {
  const tenants = program.command("tenants").description("Stored tenants (admin key)");
  tenants
    .command("list", { isDefault: true })
    .description("List stored tenants")
    .action(async (_o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const { tenants: list } = await client.api.listTenants();
      print(output, list, () => (list.length === 0 ? "no stored tenants" : table(["NAME", "STATUS", "CREATED"], list.map((t) => [t.name, t.status, time(t.createdAt)]))));
    });
  tenants
    .command("create <name>")
    .description("Create a tenant")
    .action(async (name: string, _o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const tenant = await client.api.createTenant({ body: { name } });
      print(output, tenant, () => `created tenant ${tenant.name}; give it a key with: edgeflow keys create ${tenant.name}`);
    });
  tenants
    .command("show <name>")
    .description("A tenant with its key and entity counts (and erasure progress)")
    .action(async (name: string, _o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const tenant = await client.api.getTenant({ name });
      print(output, tenant, () => showTenant(tenant));
    });
  tenants
    .command("inherit")
    .description("Whether the tenant uses the deployment-wide destinations where it has none of its own (off unless set)")
    .argument("<name>", "the tenant")
    .addArgument(new Argument("<on|off>").choices(["on", "off"]))
    .action(async (name: string, value: "on" | "off", _o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const tenant = await client.api.updateTenant({ name, body: { inheritDestinations: value === "on" } });
      print(output, tenant, () => showTenant(tenant));
    });
  tenants
    .command("delete <name>")
    .description("Offboard a tenant: erase everything it owns")
    .action(async (name: string, _o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const answer = await client.api.deleteTenant({ name });
      print(output, answer, () => `${answer.name} is ${answer.status}; follow with: edgeflow tenants show ${answer.name}`);
    });

  const keys = program.command("keys").description("A tenant's API keys (admin key)");
  keys
    .command("list <tenant>")
    .description("List keys by id, label and prefix")
    .action(async (tenant: string, _o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const { keys: list } = await client.api.listKeys({ name: tenant });
      print(output, list, () => table(["ID", "PREFIX", "LABEL", "CREATED"], list.map((k) => [k.id, `${k.prefix}…`, k.label, time(k.createdAt)])));
    });
  keys
    .command("create <tenant>")
    .description("Create a key; it is shown once")
    .option("--label <label>", "what the key is for")
    .action(async (tenant: string, options: { label?: string }, command: Command) => {
      const { client, output } = contextOf(command);
      const key = await client.api.createKey({ name: tenant, body: options.label === undefined ? {} : { label: options.label } });
      print(output, key, () => `${key.key}\n(key ${key.id}: shown once, keep it)`);
    });
  keys
    .command("revoke <tenant> <id>")
    .description("Revoke a key")
    .action(async (tenant: string, id: string, _o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      await client.api.revokeKey({ name: tenant, id });
      print(output, { revoked: id }, () => `revoked ${id}`);
    });

  const destinations = program.command("destinations").description("Where the tenant's handlers deliver (tenant key)");
  const shown = (value: unknown) => (typeof value === "object" && value !== null ? JSON.stringify(value) : String(value));
  destinations
    .command("list", { isDefault: true })
    .description("The tenant's destinations, secrets masked")
    .action(async (_o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const answer = await client.api.getDestinations();
      const rows = Object.entries(answer.destinations).map(([kind, d]) => [kind, Object.entries(d).map(([k, v]) => `${k}=${shown(v)}`).join("  ")]);
      print(output, answer.destinations, () => (rows.length === 0 ? "no destinations of its own" : table(["KIND", "SETTINGS"], rows)));
    });
  const setDestination = destinations
    .command("set <kind>")
    .description(`Set a destination (${KIND_FORMS.map((k) => k.kind).join(", ")})`)
    // Not --url: that is the server's, on every command.
    .requiredOption("--to <url>", "where to deliver");
  // One option per other field of any kind, from the kinds table (src/handlers/kinds.ts).
  const extraFields = new Map<string, string[]>();
  for (const kind of KIND_FORMS) for (const f of kind.fields) if (f.name !== "url") extraFields.set(f.name, [...(extraFields.get(f.name) ?? []), kind.kind]);
  for (const [name, kinds] of extraFields) setDestination.option(`--${kebab(name)} <value>`, `${name} (${kinds.join(", ")})`);
  limitOptions(setDestination);
  setDestination.action(async (kindName: string, options: Record<string, string | undefined>, command: Command) => {
    const { client, output } = contextOf(command);
    const kind = KIND_FORMS.find((k) => k.kind === kindName);
    if (!kind) throw new CliError(`kind must be one of ${KIND_FORMS.map((k) => k.kind).join(", ")}`, 2);
    const body: Record<string, unknown> = { ...limitsOf(options) };
    for (const f of kind.fields) {
      const value = f.name === "url" ? options.to : options[f.name];
      if (value !== undefined) body[f.name] = value;
    }
    const saved = await client.api.putDestination({ kind: kind.kind, body });
    print(output, saved, () => `${kind.kind}: ${Object.entries(saved).map(([k, v]) => `${k}=${shown(v)}`).join("  ")}`);
  });
  destinations
    .command("delete <kind>")
    .description("Remove a destination: the handler skips, or uses the deployment's where the tenant inherits it")
    .action(async (kind: string, _o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      await client.api.deleteDestination({ kind });
      print(output, { deleted: kind }, () => `deleted ${kind}`);
    });

  const endpoints = program.command("endpoints").description("The tenant's webhook endpoints (tenant key)");
  endpoints
    .command("list", { isDefault: true })
    .description("List endpoints")
    .action(async (_o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const { endpoints: list } = await client.api.listEndpoints();
      print(output, list, () =>
        list.length === 0
          ? "no endpoints"
          : table(
              ["ID", "URL", "EVENT TYPES", "STATUS", "HEALTH", "LIMITS", "DESCRIPTION"],
              list.map((e) => [e.id, e.url, e.eventTypes?.join(",") ?? "all", e.status, e.failingSince ? `failing since ${time(e.failingSince)}` : e.lastSuccessAt ? `ok ${time(e.lastSuccessAt)}` : "", limitsText(e), e.description]),
            ),
      );
    });
  const createEndpoint = endpoints
    .command("create <url>")
    .description("Register an endpoint; its whsec_ secret is shown once")
    .option("--types <types>", "comma-separated event types (default: all)")
    .option("--description <text>", "what it is")
    .option("--backfill", "deliver each entity's whole history to it, not only new events (edgeflow backfills show <id> follows it)");
  limitOptions(createEndpoint);
  createEndpoint.action(async (url: string, options: { types?: string; description?: string; backfill?: boolean; rate?: string; maxConcurrency?: string }, command: Command) => {
      const { client, output } = contextOf(command);
      const body = {
        ...limitsOf(options),
        url,
        ...(options.types ? { eventTypes: options.types.split(",").map((t) => t.trim()) } : {}),
        ...(options.description ? { description: options.description } : {}),
        ...(options.backfill ? { backfill: true } : {}),
      };
      const endpoint = await client.api.createEndpoint({ body });
      const history = endpoint.backfillId ? `\nbackfill ${endpoint.backfillId} started: edgeflow backfills show ${endpoint.backfillId} --wait` : "";
      print(output, endpoint, () => `created ${endpoint.id} → ${endpoint.url}\nsigning secret (shown once): ${endpoint.secret}${history}`);
    });
  limitOptions(
    endpoints.command("limit <id>").description("Set or clear an endpoint's rate and concurrency limits (none: no limit)"),
  ).action(async (id: string, options: { rate?: string; maxConcurrency?: string }, command: Command) => {
    const { client, output } = contextOf(command);
    const change = limitsOf(options);
    if (Object.keys(change).length === 0) throw new CliError("give --rate and/or --max-concurrency (a number, or none)", 2);
    const answer = await client.api.updateEndpoint({ id, body: change });
    print(output, answer, () => `${id}: ${limitsText(answer) || "no limits"}`);
  });
  endpoints
    .command("rotate <id>")
    .description("Rotate an endpoint's signing secret; the new one is shown once")
    .action(async (id: string, _o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const answer = await client.api.rotateEndpointSecret({ id });
      print(output, answer, () => `new signing secret (shown once): ${answer.secret}`);
    });
  for (const [name, status] of [["enable", "active"], ["disable", "disabled"]] as const) {
    endpoints
      .command(`${name} <id>`)
      .description(status === "active" ? "Re-enable a disabled endpoint: what it held is delivered in order" : "Disable an endpoint by hand: its deliveries hold until it is enabled")
      .action(async (id: string, _o: unknown, command: Command) => {
        const { client, output } = contextOf(command);
        const answer = await client.api.updateEndpoint({ id, body: { status } });
        print(output, answer, () => `${id} is ${answer.status}`);
      });
  }
  endpoints
    .command("delete <id>")
    .description("Delete an endpoint; its pending deliveries end as skipped")
    .action(async (id: string, _o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      await client.api.deleteEndpoint({ id });
      print(output, { deleted: id }, () => `deleted ${id}`);
    });

  const handlers = program.command("handlers").description("The tenant's handlers, paused or not for every entity (tenant key)");
  handlers
    .command("list", { isDefault: true })
    .description("Every handler (endpoints as endpoint:{id}) and whether it is paused")
    .action(async (_o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const answer = await client.api.listHandlers();
      print(output, answer.handlers, () => table(["HANDLER", "PAUSED"], answer.handlers.map((h) => [h.name, h.paused ? "paused" : "no"])));
    });
  for (const [name, description] of [
    ["pause", "Hold a handler's deliveries for every entity of the tenant"],
    ["resume", "Release a handler for every entity: each drains in order"],
  ] as const) {
    handlers
      .command(`${name} <handler>`)
      .description(description)
      .action(async (handler: string, _o: unknown, command: Command) => {
        const { client, output } = contextOf(command);
        const answer = await client.api[name === "pause" ? "pauseHandler" : "resumeHandler"]({ handler });
        print(output, answer, () => `${answer.handler}: ${answer.paused ? "paused" : "resumed"} for every entity`);
      });
  }

  const sources = program.command("sources").description("The tenant's signed webhook sources (tenant key)");
  sources
    .command("list", { isDefault: true })
    .description("The tenant's sources, secrets masked")
    .action(async (_o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const answer = await client.api.getSources();
      const rows = Object.entries(answer.sources).map(([name, s]) => [name, s.scheme, s.secret, s.header, s.mapping ? JSON.stringify(s.mapping) : null]);
      print(output, answer.sources, () => (rows.length === 0 ? "no sources" : table(["NAME", "SCHEME", "SECRET", "HEADER", "MAPPING"], rows)));
    });
  sources
    .command("set <name>")
    .description(`Set a source; providers post to /v1/sources/{tenant}/{name}`)
    .addOption(new Option("--scheme <scheme>", "how the provider signs").choices(SCHEME_NAMES).makeOptionMandatory())
    .requiredOption("--secret <secret>", "the provider's signing secret")
    .option("--header <name>", "the signature header, for schemes where it is yours to choose")
    .option("--mapping <json>", 'how the payload becomes an event, e.g. \'{"types":{"customer.created":"lead.created"}}\'')
    .action(async (name: string, options: { scheme: string; secret: string; header?: string; mapping?: string }, command: Command) => {
      const { client, output } = contextOf(command);
      let mapping: unknown;
      try {
        mapping = options.mapping === undefined ? undefined : JSON.parse(options.mapping);
      } catch {
        throw new CliError("--mapping is not JSON", 2);
      }
      const body = { scheme: options.scheme, secret: options.secret, ...(options.header ? { header: options.header } : {}), ...(mapping === undefined ? {} : { mapping }) };
      const saved = await client.api.putSource({ name, body });
      print(output, saved, () => `${name}: ${saved.scheme}, secret ${saved.secret}; post to ${client.url}/v1/sources/<tenant>/${name}`);
    });
  sources
    .command("delete <name>")
    .description("Remove a source: posts to it are refused from then on")
    .action(async (name: string, _o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      await client.api.deleteSource({ name });
      print(output, { deleted: name }, () => `deleted ${name}`);
    });
}

function showTenant(t: Tenant): string {
  const inherits = t.inheritDestinations ? "inherits the deployment's destinations" : "own destinations only";
  return `${t.name}  ${t.status}  created ${time(t.createdAt)}  ${t.keys} key(s)  ${t.entities} entities  ${inherits}`;
}

/** `apiKey` → `api-key`: commander turns the option back into `apiKey`. */
function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The rate and concurrency options of commands that set a destination's or an endpoint's limits. */
function limitOptions(command: Command): Command {
  return command
    .option("--rate <perSecond>", "most calls a second across every entity (none: no limit)")
    .option("--max-concurrency <n>", "most calls in flight at once (none: no limit)");
}

/** The request fields of those options: a number sets a limit, `none` clears it. */
function limitsOf(options: { rate?: string; maxConcurrency?: string }): { rateLimit?: { perSecond: number } | null; maxConcurrency?: number | null } {
  const number = (text: string, what: string) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) throw new CliError(`${what} must be a positive number or none`, 2);
    return value;
  };
  return {
    ...(options.rate !== undefined ? { rateLimit: options.rate === "none" ? null : { perSecond: number(options.rate, "--rate") } } : {}),
    ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency === "none" ? null : number(options.maxConcurrency, "--max-concurrency") } : {}),
  };
}

function limitsText(e: { rateLimit: { perSecond: number } | null; maxConcurrency: number | null }): string {
  return [e.rateLimit ? `${e.rateLimit.perSecond}/s` : "", e.maxConcurrency ? `${e.maxConcurrency} at once` : ""].filter(Boolean).join(", ");
}
