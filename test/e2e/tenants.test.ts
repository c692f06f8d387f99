// Tenants as data, over real HTTP: stored tenants and keys, per-tenant destinations at real local
// receivers, isolation between tenants, secrets at rest, and offboarding.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, type ReceivedCall, type Receiver } from "../../scripts/receiver.ts";
import { ADMIN, call, d1RowsOf, newTenant } from "./control.ts";
import { startServer, waitFor, type LocalServer } from "./harness.ts";

/** The documented bound on how stale a cached tenant configuration may be (src/control/runtime.ts). */
const CONFIG_TTL_MS = 5_000;
const SECRETS_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7)).toString("base64");

let server: LocalServer;
/** acme's and globex's own receivers, and the deployment-wide Slack. */
let a: Receiver;
let b: Receiver;
let deployment: Receiver;
const keys: Record<string, string> = {};

const handlerOf = (c: ReceivedCall) => c.headers["edgeflow-handler"];

function destinationsFor(tenant: string, receiver: Receiver) {
  return {
    slack: { url: `${receiver.url}/slack/T000/B000/${tenant}-slack-token` },
    discord: { url: `${receiver.url}/api/webhooks/1/${tenant}-discord-token` },
    teams: { url: `${receiver.url}/workflows/${tenant}-teams-token` },
    email: { url: `${receiver.url}/email`, apiKey: `re_${tenant}_email_secret`, from: `hello@${tenant}.example` },
    crm: { url: `${receiver.url}/crm`, apiKey: `${tenant}-crm-secret-key` },
    ai: { url: `${receiver.url}/ai`, apiKey: `sk-${tenant}-ai-secret`, model: "local-model" },
  };
}

const leadCreated = (id: string, leadId: string) => ({ id, type: "lead.created", data: { id: leadId, email: `${leadId.toLowerCase()}@example.com`, name: `Lead ${leadId}` } });

beforeAll(async () => {
  [a, b, deployment] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
  server = await startServer({
    vars: { SLACK_WEBHOOK_URL: `${deployment.url}/slack`, SECRETS_KEY, RETRY_BASE_MS: "50", RETRY_MAX_DELAY_MS: "400", RETRY_MAX_ATTEMPTS: "3", QUEUE_LEASE_MS: "5000" },
  });
  keys.acme = await newTenant(server.url, "acme");
  keys.globex = await newTenant(server.url, "globex");
  for (const [tenant, receiver] of [["acme", a], ["globex", b]] as const) {
    for (const [kind, destination] of Object.entries(destinationsFor(tenant, receiver))) {
      const put = await call(server.url, keys[tenant]!, "PUT", `/v1/destinations/${kind}`, destination);
      expect(put.status, `${tenant} ${kind}`).toBe(200);
    }
  }
});
afterAll(async () => {
  await server?.discard();
  await Promise.all([a?.close(), b?.close(), deployment?.close()]);
});

describe("per-tenant destinations", () => {
  it("shows destinations masked, and refuses a destination that is not an http(s) URL with its fields", async () => {
    const got = await call<{ destinations: Record<string, Record<string, string>> }>(server.url, keys.acme!, "GET", "/v1/destinations");
    expect(got.body.destinations).toEqual({
      slack: { url: "…oken" },
      discord: { url: "…oken" },
      teams: { url: "…oken" },
      email: { url: `${a.url}/email`, apiKey: "…cret", from: "hello@acme.example" },
      crm: { url: `${a.url}/crm`, apiKey: "…-key" },
      ai: { url: `${a.url}/ai`, apiKey: "…cret", model: "local-model" },
    });
    const bad = await call<{ error: { code: string; issues: Array<{ path: string }> } }>(server.url, keys.acme!, "PUT", "/v1/destinations/crm", { url: "ftp://x" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_request");
    expect(bad.body.error.issues.map((i) => i.path).sort()).toEqual(["apiKey", "url"]);
    expect((await call(server.url, keys.acme!, "PUT", "/v1/destinations/pager", { url: "https://x" })).status).toBe(404);
  });

  it("sends each tenant's calls only to its own receivers, under keys that differ for the same event and entity ids", async () => {
    for (const tenant of ["acme", "globex"]) {
      expect((await call(server.url, keys[tenant]!, "POST", "/v1/events", leadCreated("evt_same", "L-1"))).status).toBe(202);
    }
    const expected = ["slack", "discord", "teams", "welcome-email", "crm", "ai-analysis"];
    const delivered = (r: Receiver) => new Set(r.calls.filter((c) => c.status === 200).map(handlerOf));
    await waitFor(() => expected.every((h) => delivered(a).has(h) && delivered(b).has(h)), "both tenants' deliveries");

    for (const [tenant, receiver, other] of [["acme", a, b], ["globex", b, a]] as const) {
      expect(receiver.calls.every((c) => c.headers["edgeflow-tenant"] === tenant), `${tenant}'s receiver got only ${tenant}'s calls`).toBe(true);
      expect(other.calls.some((c) => c.headers["edgeflow-tenant"] === tenant)).toBe(false);
      const crm = receiver.calls.find((c) => handlerOf(c) === "crm")!;
      expect(crm.headers.authorization).toBe(`Bearer ${tenant}-crm-secret-key`);
      expect(crm.path).toBe("/crm/contacts/L-1");
      const email = JSON.parse(receiver.calls.find((c) => handlerOf(c) === "welcome-email")!.body) as { from: string };
      expect(email.from).toBe(`hello@${tenant}.example`);
      expect(receiver.calls.find((c) => handlerOf(c) === "slack")!.path).toBe(`/slack/T000/B000/${tenant}-slack-token`);
      // Discord and Teams: set over the API like any kind, each rendered its own way.
      const discord = receiver.calls.find((c) => handlerOf(c) === "discord")!;
      expect(discord.path).toBe(`/api/webhooks/1/${tenant}-discord-token`);
      expect(JSON.parse(discord.body)).toMatchObject({ allowed_mentions: { parse: [] }, embeds: [{ title: "New lead" }] });
      const teams = receiver.calls.find((c) => handlerOf(c) === "teams")!;
      expect(teams.path).toBe(`/workflows/${tenant}-teams-token`);
      expect(JSON.parse(teams.body)).toMatchObject({ type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", content: { version: "1.4" } }] });
      for (const c of receiver.calls) {
        // The tenant's space: its name and the incarnation made when it was created.
        expect(c.headers["idempotency-key"]).toMatch(new RegExp(`^${tenant}~[0-9a-f]{16}/lead/L-1/evt_same:${handlerOf(c)}$`));
        expect(c.headers["edgeflow-entity"]).toBe("lead/L-1");
        expect(c.headers["edgeflow-event-id"]).toBe("evt_same");
      }
    }
    const keysOf = (r: Receiver) => new Set(r.calls.map((c) => c.headers["idempotency-key"]));
    expect([...keysOf(a)].filter((k) => keysOf(b).has(k))).toEqual([]);
    expect(deployment.calls).toEqual([]);
  });

  it("skips once the tenant's destination is deleted, and uses the deployment's only where the operator lets it inherit", async () => {
    expect((await call(server.url, keys.acme!, "DELETE", "/v1/destinations/slack")).status).toBe(204);
    const deletedAt = Date.now();
    expect((await call<{ destinations: object }>(server.url, keys.acme!, "GET", "/v1/destinations")).body.destinations).not.toHaveProperty("slack");
    // Actors elsewhere may hold the old configuration for up to the documented bound.
    await waitFor(() => Date.now() - deletedAt > CONFIG_TTL_MS, "the configuration cache bound", CONFIG_TTL_MS + 1_000, 100);
    expect((await call(server.url, keys.acme!, "POST", "/v1/events", { id: "evt_nofallback", type: "lead.updated", data: { id: "L-1", status: "qualified" } })).status).toBe(202);
    const slackOf = async (eventId: string) => {
      const page = await call<{ events: Array<{ id: string; deliveries: Array<{ handler: string; status: string; lastError: string | null }> }> }>(server.url, keys.acme!, "GET", "/v1/entities/lead/L-1/events");
      return page.body.events.find((e) => e.id === eventId)?.deliveries.find((d) => d.handler === "slack");
    };
    await waitFor(async () => (await slackOf("evt_nofallback"))?.status === "skipped", "the Slack delivery to be skipped");
    expect((await slackOf("evt_nofallback"))?.lastError).toMatch(/^no destination/);
    expect(deployment.calls.some((c) => c.headers["edgeflow-tenant"] === "acme")).toBe(false);

    expect((await call(server.url, ADMIN, "PATCH", "/v1/admin/tenants/acme", { inheritDestinations: true })).status).toBe(200);
    expect((await call(server.url, keys.acme!, "POST", "/v1/events", { id: "evt_fallback", type: "lead.updated", data: { id: "L-1", status: "qualified" } })).status).toBe(202);
    const isFallback = (c: ReceivedCall) => c.headers["edgeflow-event-id"] === "evt_fallback" && handlerOf(c) === "slack";
    await waitFor(() => deployment.calls.some(isFallback), "the inherited Slack call");
    expect(a.calls.some(isFallback)).toBe(false);
    expect((await call(server.url, ADMIN, "PATCH", "/v1/admin/tenants/acme", { inheritDestinations: false })).status).toBe(200);
  });
});

describe("API keys", () => {
  it("lists keys by id, label and prefix only, and refuses a revoked key within 10 s", async () => {
    const created = await call<{ id: string; key: string; label: string; prefix: string; createdAt: string }>(server.url, ADMIN, "POST", "/v1/admin/tenants/acme/keys", { label: "ci" });
    expect(created.status).toBe(201);
    expect(created.body.key.startsWith(created.body.prefix)).toBe(true);
    const listed = await call<{ keys: Array<Record<string, unknown>> }>(server.url, ADMIN, "GET", "/v1/admin/tenants/acme/keys");
    const entry = listed.body.keys.find((k) => k.id === created.body.id);
    expect(entry).toEqual({ id: created.body.id, label: "ci", prefix: created.body.prefix, createdAt: created.body.createdAt });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);

    const key = created.body.key;
    expect((await call(server.url, key, "POST", "/v1/events", { id: "evt_k1", type: "lead.updated", data: { id: "L-keys", n: 1 } })).status).toBe(202);
    expect((await call(server.url, ADMIN, "DELETE", `/v1/admin/tenants/acme/keys/${created.body.id}`)).status).toBe(204);
    const revokedAt = Date.now();
    await waitFor(async () => (await call(server.url, key, "GET", "/v1/entities/lead/L-keys")).status === 401, "the revoked key to be refused", 10_000);
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(10_000);
    expect((await call(server.url, ADMIN, "DELETE", `/v1/admin/tenants/acme/keys/${created.body.id}`)).status).toBe(404);
    // The tenant's other key is untouched.
    expect((await call(server.url, keys.acme!, "GET", "/v1/entities/lead/L-keys")).status).toBe(200);
  });

  it("keeps the admin API and the tenant API apart", async () => {
    expect((await call(server.url, keys.acme!, "GET", "/v1/admin/tenants")).status).toBe(401);
    expect((await call(server.url, ADMIN, "GET", "/v1/destinations")).status).toBe(401);
    expect((await call(server.url, "wrong", "GET", "/v1/admin/tenants")).status).toBe(401);
    const forged = `ek_acme_${"0".repeat(48)}`;
    expect((await call(server.url, forged, "GET", "/v1/destinations")).status).toBe(401);
  });

  it("lets only the admin key act as a tenant with Edgeflow-Tenant, and only as one that exists", async () => {
    const as = async (key: string, tenant: string) => {
      const response = await fetch(`${server.url}/v1/destinations`, { headers: { authorization: `Bearer ${key}`, "edgeflow-tenant": tenant } });
      return { status: response.status, body: (await response.json()) as { destinations?: Record<string, { url?: string }> } };
    };
    const operator = await as(ADMIN, "globex");
    expect(operator.status).toBe(200);
    expect(operator.body.destinations?.slack?.url).toBe((await call<typeof operator.body>(server.url, keys.globex!, "GET", "/v1/destinations")).body.destinations?.slack?.url);
    expect((await as(ADMIN, "nobody")).status).toBe(404);
    // A tenant's key naming another tenant stays itself.
    const acme = await as(keys.acme!, "globex");
    expect(acme.status).toBe(200);
    expect(acme.body).toEqual((await call(server.url, keys.acme!, "GET", "/v1/destinations")).body);
    expect((await as("wrong", "globex")).status).toBe(401);
  });

  it("validates tenant names and refuses a second tenant of the same name", async () => {
    const bad = await call<{ error: { code: string } }>(server.url, ADMIN, "POST", "/v1/admin/tenants", { name: "Not Valid" });
    expect([bad.status, bad.body.error.code]).toEqual([400, "invalid_request"]);
    const again = await call<{ error: { code: string } }>(server.url, ADMIN, "POST", "/v1/admin/tenants", { name: "acme" });
    expect([again.status, again.body.error.code]).toEqual([409, "tenant_exists"]);
    // The local demo tenant lives in the configuration, not in storage.
    expect((await call(server.url, ADMIN, "POST", "/v1/admin/tenants", { name: "demo" })).status).toBe(409);
    const list = await call<{ tenants: Array<{ name: string; status: string }> }>(server.url, ADMIN, "GET", "/v1/admin/tenants");
    expect(list.body.tenants.map((t) => t.name)).toEqual(expect.arrayContaining(["acme", "globex"]));
    expect((await call(server.url, ADMIN, "GET", "/v1/admin/tenants/nobody")).status).toBe(404);
  });
});

describe("isolation between tenants", () => {
  it("never lets one tenant's key read, write or replay another tenant's entities, dead letters, destinations or endpoints", async () => {
    // acme: an entity only it has, an endpoint, and a dead letter (its receiver refuses with 410).
    a.script("/lead/L-acme/evt_dead:slack", [{ status: 410, body: "gone" }]);
    const acmeSlack = { url: `${a.url}/slack/T000/B000/acme-slack-token` };
    expect((await call(server.url, keys.acme!, "PUT", "/v1/destinations/slack", acmeSlack)).status).toBe(200);
    expect((await call(server.url, keys.acme!, "POST", "/v1/events", { id: "evt_dead", type: "lead.updated", data: { id: "L-acme", x: 1 } })).status).toBe(202);
    const deadId = "lead/L-acme/1:slack";
    await waitFor(async () => {
      const page = await call<{ deadLetters: Array<{ id: string }> }>(server.url, keys.acme!, "GET", "/v1/dead-letters");
      return page.body.deadLetters.some((d) => d.id === deadId);
    }, "acme's dead letter", 20_000);
    const endpoint = await call<{ id: string }>(server.url, keys.acme!, "POST", "/v1/endpoints", { url: `${a.url}/hooks/acme` });
    expect(endpoint.status).toBe(201);
    const ep = endpoint.body.id;

    const g = keys.globex!;
    const denied: Array<[string, string, unknown?]> = [
      ["GET", "/v1/entities/lead/L-acme"],
      ["GET", "/v1/entities/lead/L-acme/events"],
      ["GET", `/v1/endpoints/${ep}`],
      ["PATCH", `/v1/endpoints/${ep}`, { description: "taken over" }],
      ["POST", `/v1/endpoints/${ep}/rotate-secret`],
      ["DELETE", `/v1/endpoints/${ep}`],
    ];
    for (const [method, path, body] of denied) expect((await call(server.url, g, method, path, body)).status, `${method} ${path}`).toBe(404);
    expect((await call<{ deadLetters: Array<{ id: string }> }>(server.url, g, "GET", "/v1/dead-letters")).body.deadLetters).toEqual([]);
    expect((await call<{ replayed: number }>(server.url, g, "POST", "/v1/dead-letters/replay", { ids: [deadId] })).body.replayed).toBe(0);
    expect((await call<{ replayed: number }>(server.url, g, "POST", "/v1/dead-letters/replay", {})).body.replayed).toBe(0);
    expect((await call<{ endpoints: unknown[] }>(server.url, g, "GET", "/v1/endpoints")).body.endpoints).toEqual([]);
    const theirs = await call<{ destinations: { crm: { url: string } } }>(server.url, g, "GET", "/v1/destinations");
    expect(theirs.body.destinations.crm.url).toBe(`${b.url}/crm`);
    // A write under globex's key lands in globex's own entity of that id, never in acme's.
    expect((await call(server.url, g, "POST", "/v1/events", { id: "evt_g", type: "lead.updated", data: { id: "L-acme", owner: "globex" } })).status).toBe(202);
    const acmeView = await call<{ state: Record<string, unknown>; events: { count: number } }>(server.url, keys.acme!, "GET", "/v1/entities/lead/L-acme");
    expect(acmeView.body.state).not.toHaveProperty("owner");
    expect(acmeView.body.events.count).toBe(1);

    // acme's own dead letter and endpoint are still there for acme.
    expect((await call(server.url, keys.acme!, "GET", `/v1/endpoints/${ep}`)).status).toBe(200);
    const mine = await call<{ deadLetters: Array<{ id: string }> }>(server.url, keys.acme!, "GET", "/v1/dead-letters");
    expect(mine.body.deadLetters.map((d) => d.id)).toContain(deadId);
  });
});

describe("secrets at rest", () => {
  it("leaves no secret in plain text anywhere under the persisted state", async () => {
    const endpoint = await call<{ secret: string }>(server.url, keys.globex!, "POST", "/v1/endpoints", { url: `${b.url}/hooks/globex` });
    const rotated = await call<{ secret: string }>(server.url, keys.globex!, "POST", `/v1/endpoints/${(endpoint.body as unknown as { id: string }).id}/rotate-secret`);
    const secrets = [
      ...["acme", "globex"].flatMap((t) => {
        const d = destinationsFor(t, t === "acme" ? a : b);
        return [d.slack.url, "slack-token", d.email.apiKey, d.crm.apiKey, d.ai.apiKey!];
      }),
      keys.acme!,
      keys.globex!,
      endpoint.body.secret,
      endpoint.body.secret.slice("whsec_".length),
      rotated.body.secret,
      rotated.body.secret.slice("whsec_".length),
    ];
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(server.persistDir);
    expect(files.some((f) => f.includes("TenantActor"))).toBe(true);
    const found: string[] = [];
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const secret of secrets) if (bytes.includes(Buffer.from(secret))) found.push(`${secret} in ${file}`);
    }
    expect(found).toEqual([]);
  });
});

describe("offboarding", () => {
  interface Delivery {
    handler: string;
    status: string;
  }
  const settled = async (key: string, type: string, id: string) => {
    const page = await call<{ events: Array<{ deliveries: Delivery[] }> }>(server.url, key, "GET", `/v1/entities/${type}/${id}/events`);
    return page.status === 200 && page.body.events.every((e) => e.deliveries.every((d) => d.status !== "pending" && d.status !== "in_flight"));
  };

  it("erases a tenant's entities, D1 rows, configuration and keys, and leaves the other tenants alone", async () => {
    const key = await newTenant(server.url, "initech");
    expect((await call(server.url, key, "PUT", "/v1/destinations/crm", { url: `${a.url}/crm`, apiKey: "initech-crm" })).status).toBe(200);
    const events = [
      leadCreated("e1", "L-1"),
      leadCreated("e2", "L-2"),
      { id: "e3", type: "lead.updated", data: { id: "L-1", status: "won" } },
      { id: "e4", type: "offer.submitted", data: { id: "O-1", leadId: "L-1", amount: 10, currency: "EUR" } },
    ];
    for (const e of events) expect((await call(server.url, key, "POST", "/v1/events", e)).status).toBe(202);
    await waitFor(async () => (await settled(key, "lead", "L-1")) && (await settled(key, "lead", "L-2")) && (await settled(key, "offer", "O-1")), "initech's deliveries");
    await waitFor(async () => (await call<{ entities: number }>(server.url, ADMIN, "GET", "/v1/admin/tenants/initech")).body.entities === 3, "the tenant's entity list");
    expect(d1RowsOf(server.persistDir, "initech")).toBeGreaterThan(0);
    const globexRows = d1RowsOf(server.persistDir, "globex");
    expect(globexRows).toBeGreaterThan(0);

    const deleted = await call(server.url, ADMIN, "DELETE", "/v1/admin/tenants/initech");
    expect(deleted).toEqual({ status: 202, body: { name: "initech", status: "erasing" } });
    // Refused at once on the server that took the delete.
    expect((await call(server.url, key, "GET", "/v1/entities/lead/L-1")).status).toBe(401);
    const seen: Array<Record<string, unknown>> = [];
    await waitFor(async () => {
      const got = await call(server.url, ADMIN, "GET", "/v1/admin/tenants/initech");
      if (got.status === 200) seen.push(got.body);
      return got.status === 404;
    }, "the erasure to finish", 30_000);
    for (const s of seen) expect(s).toMatchObject({ status: "erasing", progress: { total: 3 } });
    expect(d1RowsOf(server.persistDir, "initech")).toBe(0);
    expect(d1RowsOf(server.persistDir, "globex")).toBe(globexRows);
    expect((await call<{ tenants: Array<{ name: string }> }>(server.url, ADMIN, "GET", "/v1/admin/tenants")).body.tenants.map((t) => t.name)).not.toContain("initech");

    // A new tenant of the same name starts empty: the old entities' storage is gone.
    const again = await newTenant(server.url, "initech");
    expect((await call(server.url, key, "GET", "/v1/entities/lead/L-1")).status).toBe(401);
    for (const [type, id] of [["lead", "L-1"], ["lead", "L-2"], ["offer", "O-1"]]) {
      expect((await call(server.url, again, "GET", `/v1/entities/${type}/${id}`)).status).toBe(404);
    }
    expect((await call<{ destinations: object }>(server.url, again, "GET", "/v1/destinations")).body.destinations).toEqual({});
    expect((await call<{ deadLetters: unknown[] }>(server.url, again, "GET", "/v1/dead-letters")).body.deadLetters).toEqual([]);
    // The other tenants are untouched.
    expect((await call(server.url, keys.globex!, "GET", "/v1/entities/lead/L-1")).status).toBe(200);
    expect((await call(server.url, keys.acme!, "GET", "/v1/entities/lead/L-1")).status).toBe(200);
  });
});
