import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantActor } from "../../actors/tenant-actor.ts";
import { tenantActor } from "../../src/rpc/actors.ts";
import { refusedUrl } from "../../src/net/url-policy.ts";
import { withoutControls } from "../../src/text.ts";
import { deliveries, eventually, leadActor, leadEvent, uniqueId } from "./helpers.ts";

const closed = { ALLOW_PRIVATE_DESTINATIONS: undefined };
const open = { ALLOW_PRIVATE_DESTINATIONS: "1" };

describe("the outbound address policy", () => {
  // [url, refused with private destinations off, refused with them on]
  const cases: Array<[string, boolean, boolean]> = [
    ["https://hooks.slack.com/services/T/B/x", false, false],
    ["https://93.184.215.14/hook", false, false],
    ["https://[2606:4700::1111]/hook", false, false],
    ["http://169.254.169.254/latest/meta-data", true, true],
    ["http://[fe80::1]/x", true, true],
    ["http://metadata.google.internal/computeMetadata/v1", true, true],
    ["http://100.100.100.200/latest", true, true],
    ["http://[fd00:ec2::254]/latest", true, true],
    ["http://[::ffff:169.254.169.254]/x", true, true],
    ["http://224.0.0.1/x", true, true],
    ["http://127.0.0.1:8787/v1/admin/tenants", true, false],
    ["http://2130706433/x", true, false],
    ["http://0x7f.1/x", true, false],
    ["http://[::1]/x", true, false],
    ["http://[::ffff:127.0.0.1]/x", true, false],
    ["http://0.0.0.0/x", true, false],
    ["http://[::]/x", true, false],
    ["http://10.1.2.3/x", true, false],
    ["http://172.16.0.1/x", true, false],
    ["http://192.168.1.1/x", true, false],
    ["http://100.64.0.1/x", true, false],
    ["http://[fd12:3456::1]/x", true, false],
    ["http://localhost:9000/x", true, false],
    ["http://api.localhost/x", true, false],
    ["http://LOCALHOST./x", true, false],
    ["http://db.internal/x", true, false],
    ["http://printer.local/x", true, false],
  ];
  it.each(cases)("%s: refused %s with private destinations off, %s with them on", (url, whenClosed, whenOpen) => {
    expect(refusedUrl(url, { env: closed }) !== null).toBe(whenClosed);
    expect(refusedUrl(url, { env: open }) !== null).toBe(whenOpen);
  });

  it("refuses the deployment's own host unless private destinations are allowed", () => {
    expect(refusedUrl("https://edgeflow.example.workers.dev/v1/admin/tenants", { env: closed, ownHost: "edgeflow.example.workers.dev" })).toMatch(/own host/);
    expect(refusedUrl("https://edgeflow.example.workers.dev/x", { env: open, ownHost: "edgeflow.example.workers.dev" })).toBeNull();
    expect(refusedUrl("https://other.example/x", { env: closed, ownHost: "edgeflow.example.workers.dev" })).toBeNull();
  });

  it("is checked again before each call: a stored URL it refuses is never called, and the delivery is dead with the reason", async () => {
    // Stored past the API's own check (as by an earlier release), straight in the tenant's actor.
    const stored = await tenantActor(env, "lists").putDestination("lists", "slack", { url: `http://169.254.169.254/slack` });
    expect(stored).toBe(true);
    try {
      const leadId = uniqueId();
      const event = leadEvent(leadId, { type: "lead.updated", data: { id: leadId } });
      await leadActor(leadId, "lists").ingest("lists", [event]);
      const slack = await eventually(async () => {
        const found = (await deliveries(leadId, event.id, "lists")).slack;
        return found?.status === "dead" ? found : undefined;
      }, "the Slack delivery to be dead");
      expect(slack.lastError).toMatch(/^refused by the outbound address policy: a cloud metadata address/);
      expect(slack.attempts).toBe(1);
    } finally {
      expect(await tenantActor(env, "lists").deleteDestination("lists", "slack")).toBe(true);
    }
  });
});

describe("receivers' text", () => {
  it("is kept without control characters: no escape, no bidi override, breaks as spaces", () => {
    const hostile = "ok\u001b]0;title\u0007\u001b[2K\u009b31m\u202eevil\r\nnext\tcol\u0000";
    expect(withoutControls(hostile)).toBe("ok]0;title[2K31mevil  next col");
    expect(withoutControls("x".repeat(500), 200)).toHaveLength(200);
  });
});

describe("the live feed's watchers", () => {
  it("closes a socket the operator opened once the admin key is no longer the deployment's (4403), and sends it nothing", async () => {
    const stub = env.TENANT.getByName("lists");
    const received: string[] = [];
    const code = await runInDurableObject(stub, async (instance: TenantActor) => {
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("dev_admin_key"));
      const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
      const response = await instance.fetch(
        new Request("http://internal/v1/live", { headers: { upgrade: "websocket", "x-edgeflow-watcher": JSON.stringify({ kind: "admin", digest: hex }) } }),
      );
      expect(response.status).toBe(101);
      const socket = response.webSocket!;
      socket.accept();
      socket.addEventListener("message", (m) => received.push(String(m.data)));
      const closedWith = new Promise<number>((done) => socket.addEventListener("close", (e) => done(e.code)));
      await instance.publish([{ kind: "event", id: "e1", type: "lead.updated", entity: { type: "lead", id: "L" }, seq: 1, status: "accepted", at: 1 }]);
      await eventually(() => (received.length === 1 ? true : undefined), "the first message");
      // The operator rotates ADMIN_API_KEY: this actor's env now names another key. (`env` is
      // protected on DurableObject; the test stands in for the deployment's new configuration.)
      const actorEnv = (instance as unknown as { env: Cloudflare.Env }).env;
      actorEnv.ADMIN_API_KEY = "a-new-admin-key";
      try {
        await instance.publish([{ kind: "event", id: "e2", type: "lead.updated", entity: { type: "lead", id: "L" }, seq: 2, status: "accepted", at: 2 }]);
      } finally {
        actorEnv.ADMIN_API_KEY = undefined;
      }
      return closedWith;
    });
    expect(code).toBe(4403);
    expect(received).toHaveLength(1);
  });
});

