// Trust between tenants, tried as a hostile tenant would, over real HTTP against real local
// servers and receivers: the live feed follows its key, forged keys cost no I/O, no silent
// fallback to the operator's destinations, the outbound address policy, terminal-safe output,
// offboarding for good, SECRETS_KEY and local-only grants on a server that is not local.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, type Receiver } from "../../scripts/receiver.ts";
import type { Usage } from "../../src/usage.ts";
import { ADMIN, call, newTenant } from "./control.ts";
import { startServer, waitFor, type LocalServer } from "./harness.ts";

const ROOT = join(import.meta.dirname, "../..");

let server: LocalServer;
let own: Receiver;
let operator: Receiver;
let acme: string;

beforeAll(async () => {
  [own, operator] = await Promise.all([startReceiver(), startReceiver()]);
  server = await startServer({
    vars: { SLACK_WEBHOOK_URL: `${operator.url}/slack`, USAGE_ENDPOINT: "1", RETRY_BASE_MS: "50", RETRY_MAX_DELAY_MS: "200", RETRY_MAX_ATTEMPTS: "2" },
  });
  acme = await newTenant(server.url, "acme");
});
afterAll(async () => {
  await server?.discard();
  await Promise.all([own?.close(), operator?.close()]);
});

const usage = async (): Promise<Usage> => (await call<Usage>(server.url, "unused", "GET", "/_usage")).body;

interface Socket {
  messages: Array<Record<string, unknown>>;
  /** When the server's close frame arrived (the socket left OPEN), before the TCP connection ends. */
  closing(): Promise<number>;
  closed: Promise<{ code: number; reason: string }>;
  socket: WebSocket;
}

/** Opens the live feed with a fresh ticket, as the dashboard and the CLI do. */
async function watch(key: string): Promise<Socket> {
  const ticket = await call<{ ticket: string; expiresAt: string }>(server.url, key, "POST", "/v1/live/ticket");
  expect(ticket.status).toBe(200);
  expect(Date.parse(ticket.body.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
  return open([`edgeflow.live`, `ticket.${ticket.body.ticket}`]);
}

function open(protocols: string[]): Promise<Socket> {
  const socket = new WebSocket(`${server.url.replace(/^http/, "ws")}/v1/live`, protocols);
  const messages: Array<Record<string, unknown>> = [];
  const closed = new Promise<{ code: number; reason: string }>((done) => socket.addEventListener("close", (e) => done({ code: e.code, reason: e.reason })));
  socket.addEventListener("message", (m) => messages.push(JSON.parse(String(m.data)) as Record<string, unknown>));
  const closing = async () => {
    await waitFor(() => socket.readyState !== WebSocket.OPEN, "the server to close the socket", 15_000, 20);
    return Date.now();
  };
  return new Promise((resolve, reject) => {
    socket.addEventListener("open", () => resolve({ messages, closed, closing, socket }));
    socket.addEventListener("error", () => reject(new Error("the live feed refused the socket")));
  });
}

/** Runs the real `npx edgeflow` against the server with a key; stdout and stderr together. */
function cli(args: string[], key: string): Promise<string> {
  return new Promise<string>((resolve) => {
    const child = spawn("npx", ["edgeflow", ...args], { cwd: ROOT, env: { ...process.env, EDGEFLOW_URL: server.url, EDGEFLOW_API_KEY: key, NO_COLOR: "1" } });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    child.on("close", () => resolve(text));
  });
}

const lead = (id: string, leadId: string, type = "lead.updated") => ({ id, type, data: { id: leadId, email: `${leadId}@example.com`, name: leadId } });

describe("the live feed follows its key", () => {
  // The close event (which carries the code) comes once the TCP connection ends, about 10 s after
  // the server's close frame under `wrangler dev`: the codes are checked in the last test, so the
  // waits overlap the others instead of adding up.
  const closeCodes: Array<[string, Promise<{ code: number }>, number]> = [];

  it("closes a revoked key's socket within 10 s, and sends nothing on it after", async () => {
    const created = await call<{ id: string; key: string }>(server.url, ADMIN, "POST", "/v1/admin/tenants/acme/keys", { label: "watcher" });
    const watcher = await watch(created.body.key);
    const other = await watch(acme);
    expect((await call(server.url, acme, "POST", "/v1/events", lead("live-1", "W-1"))).status).toBe(202);
    await waitFor(() => watcher.messages.some((m) => m.kind === "event" && m.id === "live-1"), "the event on the live feed");

    expect((await call(server.url, ADMIN, "DELETE", `/v1/admin/tenants/acme/keys/${created.body.id}`)).status).toBe(204);
    const revokedAt = Date.now();
    expect((await watcher.closing()) - revokedAt).toBeLessThan(10_000);
    closeCodes.push(["revoked key", watcher.closed, 4401]);
    const seen = watcher.messages.length;
    expect((await call(server.url, acme, "POST", "/v1/events", lead("live-2", "W-1"))).status).toBe(202);
    // The socket opened with the other key still gets it; the revoked one gets nothing more.
    await waitFor(() => other.messages.some((m) => m.kind === "event" && m.id === "live-2"), "the event on the other socket");
    expect(watcher.messages.length).toBe(seen);
    other.socket.close();
    await other.closed;
  });

  it("closes every watcher when the tenant's erasure starts", async () => {
    const key = await newTenant(server.url, "doomed");
    const watcher = await watch(key);
    const deletedAt = Date.now();
    expect((await call(server.url, ADMIN, "DELETE", "/v1/admin/tenants/doomed")).status).toBe(202);
    expect((await watcher.closing()) - deletedAt).toBeLessThan(10_000);
    closeCodes.push(["erased tenant", watcher.closed, 4404]);
  });

  it("takes tickets only: a key as a subprotocol is refused, a ticket works once, a forged one never", async () => {
    await expect(open(["edgeflow.live", `bearer.${acme}`])).rejects.toThrow();
    const ticket = (await call<{ ticket: string }>(server.url, acme, "POST", "/v1/live/ticket")).body.ticket;
    const first = await open(["edgeflow.live", `ticket.${ticket}`]);
    await expect(open(["edgeflow.live", `ticket.${ticket}`])).rejects.toThrow();
    const [tenant, nonce, expires] = ticket.split(".");
    await expect(open(["edgeflow.live", `ticket.${tenant}.${nonce}.${expires}.${"0".repeat(32)}`])).rejects.toThrow();
    first.socket.close();
    await first.closed;
  });

  it("caps watchers per tenant: the 21st is refused with 429", async () => {
    const sockets = await Promise.all(Array.from({ length: 20 }, () => watch(acme)));
    const ticket = (await call<{ ticket: string }>(server.url, acme, "POST", "/v1/live/ticket")).body.ticket;
    // fetch() cannot send an upgrade; a plain HTTP/1.1 request shows the refusal's status and body.
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(`${server.url}/v1/live`, {
        headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13", "sec-websocket-protocol": `edgeflow.live, ticket.${ticket}` },
      });
      request.on("response", (response) => {
        let body = "";
        response.on("data", (d: Buffer) => (body += d.toString()));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on("upgrade", (_response, socket) => {
        socket.destroy();
        resolve({ status: 101, body: "" });
      });
      request.on("error", reject);
      request.end();
    });
    expect(refused.status).toBe(429);
    expect((JSON.parse(refused.body) as { error: { code: string } }).error.code).toBe("rate_limited");
    for (const s of sockets) s.socket.close();
    await Promise.all(sockets.map((s) => s.closed));
  });

  it("costs at most 0.1 Durable Object requests per event while watched, at 100 events/s", async () => {
    const watcher = await watch(acme);
    // The router learns someone watches within the configuration cache's TTL: until a probe event
    // shows on the feed, the measurement has not begun.
    let probe = 0;
    await waitFor(async () => {
      await call(server.url, acme, "POST", "/v1/events", lead(`probe-${++probe}`, "R-probe"));
      return watcher.messages.some((m) => m.kind === "event" && String(m.id).startsWith("probe-"));
    }, "the feed to carry a probe event", 30_000, 250);
    await usage();
    const n = 100;
    for (let i = 0; i < n; i++) {
      void call(server.url, acme, "POST", "/v1/events", lead(`rate-${i}`, `R-${i % 10}`));
      await new Promise((r) => setTimeout(r, 10));
    }
    await waitFor(() => watcher.messages.filter((m) => m.kind === "event" && String(m.id).startsWith("rate-")).length === n, "every event on the feed", 30_000);
    const used = await usage();
    expect(used.liveRequests / n).toBeLessThanOrEqual(0.1);
    watcher.socket.close();
    await watcher.closed;
  });

  it("says why with the documented close codes: 4401 key revoked, 4404 tenant deleted", async () => {
    expect(closeCodes).toHaveLength(2);
    for (const [what, closed, code] of closeCodes) expect((await closed).code, what).toBe(code);
  });
});

describe("who a key is", () => {
  it("answers /v1/whoami for either kind of key, and 401 for neither", async () => {
    expect((await call(server.url, ADMIN, "GET", "/v1/whoami")).body).toEqual({ role: "admin" });
    expect((await call(server.url, acme, "GET", "/v1/whoami")).body).toEqual({ role: "tenant", tenant: "acme" });
    expect((await call(server.url, "nope", "GET", "/v1/whoami")).status).toBe(401);
  });
});

describe("forged keys", () => {
  const tenantFiles = () => readdirSync(join(server.persistDir, "v3", "do", "edgeflow-TenantActor")).length;

  it("cost no tenant-actor request and create no actor: 150 forged keys over 150 names", async () => {
    const filesBefore = tenantFiles();
    await usage();
    for (let i = 0; i < 150; i++) {
      const forged = `ek_forged${i}_${crypto.randomUUID().replace(/-/g, "")}${"0".repeat(16)}`;
      const answer = await call(server.url, forged, "GET", "/v1/dead-letters");
      expect([401, 429]).toContain(answer.status);
    }
    const used = await usage();
    expect(used.tenantRequests).toBe(0);
    // The router's list of pre-tag tenants, read at most once a minute.
    expect(used.directoryRequests).toBeLessThanOrEqual(1);
    expect(tenantFiles()).toBe(filesBefore);
    // A real key still works.
    expect((await call(server.url, acme, "GET", "/v1/dead-letters")).status).toBe(200);
  });
});

describe("no silent fallback to the operator's destinations", () => {
  it("skips a stored tenant's Slack with no destination of its own, until the operator lets it inherit", async () => {
    const key = await newTenant(server.url, "noslack");
    expect((await call(server.url, ADMIN, "GET", "/v1/admin/tenants/noslack")).body).toMatchObject({ inheritDestinations: false });
    expect((await call(server.url, key, "POST", "/v1/events", lead("fb-1", "F-1"))).status).toBe(202);
    const slackOf = async (eventId: string) => {
      const page = await call<{ events: Array<{ id: string; deliveries: Array<{ handler: string; status: string; lastError: string | null }> }> }>(server.url, key, "GET", "/v1/entities/lead/F-1/events");
      return page.body.events?.find((e) => e.id === eventId)?.deliveries.find((d) => d.handler === "slack");
    };
    await waitFor(async () => (await slackOf("fb-1"))?.status === "skipped", "the Slack delivery to be skipped");
    expect((await slackOf("fb-1"))?.lastError).toMatch(/^no destination/);
    expect(operator.calls.some((c) => c.headers["edgeflow-tenant"] === "noslack")).toBe(false);

    const patched = await call(server.url, ADMIN, "PATCH", "/v1/admin/tenants/noslack", { inheritDestinations: true });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: "noslack", inheritDestinations: true });
    expect((await call(server.url, key, "POST", "/v1/events", lead("fb-2", "F-1"))).status).toBe(202);
    await waitFor(() => operator.calls.some((c) => c.headers["edgeflow-tenant"] === "noslack" && c.headers["edgeflow-event-id"] === "fb-2"), "the inherited Slack call");
    // And off again, from the CLI.
    expect(await cli(["tenants", "inherit", "noslack", "off"], ADMIN)).toContain("own destinations only");
    expect((await call(server.url, ADMIN, "GET", "/v1/admin/tenants/noslack")).body).toMatchObject({ inheritDestinations: false });
  });
});

describe("outbound address policy and receivers' text", () => {
  it("refuses link-local and metadata addresses always, with path url", async () => {
    for (const url of ["http://169.254.169.254/latest/meta-data", "http://[fe80::1]/x", "http://metadata.google.internal/x"]) {
      const put = await call<{ error: { code: string; issues: Array<{ path: string }> } }>(server.url, acme, "PUT", "/v1/destinations/slack", { url });
      expect(put.status, url).toBe(400);
      expect(put.body.error.code).toBe("invalid_request");
      expect(put.body.error.issues.map((i) => i.path)).toEqual(["url"]);
      expect((await call(server.url, acme, "POST", "/v1/endpoints", { url })).status, url).toBe(400);
    }
  });

  it("keeps at most 200 characters of a receiver's answer, without control characters, and the CLI prints no escape", async () => {
    const hostile = `\u001b]0;owned\u0007\u001b[2K\u001b]8;;http://evil.example\u001b\\click\u001b]8;;\u001b\\${"x".repeat(400)}\u009b31m`;
    own.script("H-1/hostile-1:crm", [{ status: 422, body: hostile }]);
    expect((await call(server.url, acme, "PUT", "/v1/destinations/crm", { url: `${own.url}/crm`, apiKey: "acme-crm" })).status).toBe(200);
    expect((await call(server.url, acme, "POST", "/v1/events", lead("hostile-1", "H-1"))).status).toBe(202);
    const crmOf = async () => {
      const page = await call<{ events: Array<{ deliveries: Array<{ handler: string; status: string; lastError: string | null }> }> }>(server.url, acme, "GET", "/v1/entities/lead/H-1/events");
      return page.body.events?.[0]?.deliveries.find((d) => d.handler === "crm");
    };
    await waitFor(async () => (await crmOf())?.status === "dead", "the CRM delivery to go dead");
    const lastError = (await crmOf())!.lastError!;
    expect(lastError.startsWith("HTTP 422: ")).toBe(true);
    expect(lastError.length).toBeLessThanOrEqual("HTTP 422: ".length + 200);
    expect(/[\u0000-\u001f\u007f-\u009f]/.test(lastError)).toBe(false);

    for (const args of [["entity", "lead", "H-1"], ["dead-letters"]]) {
      const out = await cli(args, acme);
      expect(out, args.join(" ")).toContain("HTTP 422");
      expect(out.includes("\u001b"), args.join(" ")).toBe(false);
    }
  });
});

describe("offboarding for good", () => {
  it("gives a re-created tenant nothing of the old one: no destinations, no endpoints, no entities", async () => {
    const key = await newTenant(server.url, "phoenix");
    expect((await call(server.url, key, "PUT", "/v1/destinations/slack", { url: `${own.url}/slack/phoenix` })).status).toBe(200);
    expect((await call(server.url, key, "POST", "/v1/endpoints", { url: `${own.url}/hooks/phoenix` })).status).toBe(201);
    expect((await call(server.url, key, "POST", "/v1/events", lead("px-1", "P-1"))).status).toBe(202);
    await waitFor(async () => (await call<{ entities: number }>(server.url, ADMIN, "GET", "/v1/admin/tenants/phoenix")).body.entities === 1, "the entity to be listed");
    expect((await call(server.url, ADMIN, "DELETE", "/v1/admin/tenants/phoenix")).status).toBe(202);
    await waitFor(async () => (await call(server.url, ADMIN, "GET", "/v1/admin/tenants/phoenix")).status === 404, "the erasure", 30_000);

    const again = await newTenant(server.url, "phoenix");
    expect((await call<{ destinations: object }>(server.url, again, "GET", "/v1/destinations")).body.destinations).toEqual({});
    expect((await call<{ endpoints: unknown[] }>(server.url, again, "GET", "/v1/endpoints")).body.endpoints).toEqual([]);
    expect((await call(server.url, again, "GET", "/v1/entities/lead/P-1")).status).toBe(404);
    // The old key is no key of the new tenant's (429 once the forged-key test spent this client's failure budget).
    expect([401, 429]).toContain((await call(server.url, key, "GET", "/v1/destinations")).status);
  });
});

describe("a server that is not local development", () => {
  let remote: LocalServer;
  beforeAll(async () => {
    remote = await startServer({
      vars: { LOCAL_DEV: "0", ALLOW_PRIVATE_DESTINATIONS: "0", ADMIN_API_KEY: "operator-secret", TENANTS: JSON.stringify({ shop: { apiKeys: ["shop-key"] } }) },
    });
  });
  afterAll(() => remote?.discard());

  it("grants nothing by the Host header: no development admin key, no demo tenant, not even for the admin key", async () => {
    const asLocalhost = (key: string, path: string, headers: Record<string, string> = {}) =>
      fetch(`${remote.url}${path}`, { headers: { host: "localhost", authorization: `Bearer ${key}`, ...headers } });
    expect((await asLocalhost("dev_admin_key", "/v1/admin/tenants")).status).toBe(401);
    expect((await asLocalhost("dev_demo_key", "/v1/dead-letters")).status).toBe(401);
    expect((await asLocalhost("operator-secret", "/v1/dead-letters", { "edgeflow-tenant": "demo" })).status).toBe(404);
    expect((await call(remote.url, "operator-secret", "GET", "/v1/admin/tenants")).status).toBe(200);
  });

  it("refuses writes that would seal a secret while SECRETS_KEY is unset: 503 configuration_error", async () => {
    const put = await call<{ error: { code: string } }>(remote.url, "shop-key", "PUT", "/v1/destinations/slack", { url: "https://hooks.slack.example/T/B/x" });
    expect(put.status).toBe(503);
    expect(put.body.error.code).toBe("configuration_error");
    expect((await call(remote.url, "operator-secret", "POST", "/v1/admin/tenants", { name: "nokeys" })).status).toBe(201);
    const key = await call<{ error: { code: string } }>(remote.url, "operator-secret", "POST", "/v1/admin/tenants/nokeys/keys", {});
    expect(key.status).toBe(503);
    expect(key.body.error.code).toBe("configuration_error");
  });

  it("refuses private, loopback and unspecified addresses and its own host when private destinations are off", async () => {
    for (const url of ["http://127.0.0.1:9/x", "http://[::1]/x", "http://0.0.0.0/x", "http://10.0.0.1/x", "http://100.64.0.1/x", "http://localhost/x", "http://[::ffff:127.0.0.1]/x"]) {
      const answer = await call<{ error: { issues: Array<{ path: string }> } }>(remote.url, "shop-key", "POST", "/v1/endpoints", { url });
      expect(answer.status, url).toBe(400);
      expect(answer.body.error.issues.map((i) => i.path)).toEqual(["url"]);
    }
  });
});
