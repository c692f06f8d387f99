// The dashboard in a real browser (Debian's chromium driven by playwright-core) against a real
// server and receiver: sign in, send an event and see it arrive live, open the entity, make a
// delivery fail, replay it and see it succeed. Screenshots go to test-results/screenshots, and to
// docs/screenshots as well with UPDATE_SCREENSHOTS=1 (the README shows those).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverWithReceiver } from "./harness.ts";

const ROOT = join(import.meta.dirname, "../..");
const SHOTS = [join(ROOT, "test-results/screenshots"), ...(process.env.UPDATE_SCREENSHOTS === "1" ? [join(ROOT, "docs/screenshots")] : [])];

const local = serverWithReceiver({ FOLLOW_UP_DELAY_MS: "600000", RETRY_BASE_MS: "50", RETRY_MAX_ATTEMPTS: "2" });
let browser: Browser;
let page: Page;

/** Debian's chromium; .ci/run installs it when it is missing. */
function chromiumPath(): string {
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("chromium is not installed: apt-get install -y chromium (.ci/run does this)");
  }
}

async function shot(name: string): Promise<void> {
  for (const dir of SHOTS) {
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
  }
}

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});
afterAll(async () => {
  await browser?.close();
});

describe("dashboard", () => {
  it("signs in, shows an event live, opens its entity, and replays a failed delivery to success", async () => {
    const run = Date.now().toString(36);
    const lead = `UI-${run}`;
    const eventId = `ui-${run}`;
    // The CRM refuses this event's call for good: a dead letter to replay.
    local.receiver.script(`${eventId}:crm`, [{ status: 422, body: '{"error":"rejected by the CRM"}' }]);

    await page.goto(local.server.url);
    await page.getByLabel("API key").fill("dev_demo_key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("link", { name: "Live" }).click();
    await expect.poll(() => page.getByRole("status").first().textContent(), { timeout: 15_000 }).toBe("live");

    // Send from the page; it arrives in the live feed without a reload.
    const event = { id: eventId, type: "lead.created", data: { id: lead, email: "ui@example.com", name: "Ada Dashboard" } };
    await page.getByLabel("Send an event").fill(JSON.stringify(event));
    await page.getByRole("button", { name: "Send", exact: true }).click();
    const feed = page.getByRole("table", { name: "Live feed" });
    await expect.poll(() => feed.getByRole("link", { name: `lead/${lead}` }).count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await expect.poll(async () => (await feed.textContent()) ?? "", { timeout: 15_000 }).toContain("succeeded");
    await shot("live");

    // The entity: state and a timeline of every delivery; the CRM delivery ends dead.
    await feed.getByRole("link", { name: `lead/${lead}` }).first().click();
    const log = page.getByRole("list", { name: "Event log" });
    await expect.poll(async () => (await log.textContent()) ?? "", { timeout: 30_000 }).toMatch(/crmdead/);
    expect(await page.locator("pre").textContent()).toContain("Ada Dashboard");

    // Dead letters: replay it; the receiver now accepts, and the entity shows it succeeded.
    await page.getByRole("link", { name: "Dead letters" }).click();
    const letters = page.getByRole("table", { name: "Dead letters" });
    await expect.poll(async () => (await letters.textContent()) ?? "", { timeout: 15_000 }).toContain(eventId);
    await shot("dead-letters");
    await page.getByRole("checkbox", { name: new RegExp(`Select lead/${lead}/`) }).check();
    await page.getByRole("button", { name: /Replay selected \(1\)/ }).click();
    await expect.poll(() => page.getByRole("status").first().textContent(), { timeout: 15_000 }).toContain("Replayed 1 of 1");

    await page.goto(`${local.server.url}/#/entity?type=lead&id=${lead}`);
    await expect.poll(async () => (await log.textContent()) ?? "", { timeout: 30_000 }).toMatch(/crmsucceeded/);
    const crmCalls = local.receiver.calls.filter((c) => c.headers["idempotency-key"]?.includes(`${eventId}:crm`));
    expect(crmCalls.length).toBe(2);
    expect(new Set(crmCalls.map((c) => c.headers["idempotency-key"])).size).toBe(1);
    await shot("entity");

    // Pause and resume from the page; export downloads the document; erase asks first.
    await page.getByRole("button", { name: "Pause" }).click();
    await expect.poll(async () => (await page.getByRole("status").first().textContent()) ?? "", { timeout: 15_000 }).toMatch(/^Paused: .*slack/);
    await page.getByRole("button", { name: "Resume" }).click();
    await expect.poll(async () => (await page.getByRole("status").first().textContent()) ?? "", { timeout: 15_000 }).toContain("Resumed");
    // Deliver again: the receiver sees the same key once more, marked as a replay.
    await page.getByLabel("Deliver again to").fill("slack");
    await page.getByRole("button", { name: "Redeliver" }).click();
    await expect.poll(async () => (await page.getByRole("status").first().textContent()) ?? "", { timeout: 15_000 }).toMatch(/^1 event\(s\) go to slack again/);
    await expect
      .poll(() => local.receiver.calls.filter((c) => c.headers["edgeflow-replay"] === "true" && c.headers["idempotency-key"]?.includes(`${eventId}:slack`)).length, { timeout: 15_000 })
      .toBe(1);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export JSON" }).click()]);
    const exported = JSON.parse(readFileSync((await download.path())!, "utf8")) as { entity: { id: string }; events: unknown[] };
    expect(exported.entity.id).toBe(lead);
    expect(exported.events.length).toBeGreaterThanOrEqual(1);
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Erase" }).click();
    await expect.poll(async () => (await page.getByRole("alert").first().textContent()) ?? "", { timeout: 15_000 }).toContain("was erased");

    // Overview draws its charts from the tenant's metrics.
    await page.getByRole("link", { name: "Overview" }).click();
    // Three charts: events, deliveries and latency; with no dead letter open, no chart of them.
    await expect.poll(() => page.locator("canvas").count(), { timeout: 15_000 }).toBe(3);
    await expect.poll(async () => (await page.locator(".tiles").textContent()) ?? "", { timeout: 15_000 }).toMatch(/[1-9]\d* events accepted/);
    await shot("overview");

  });

  it("lets the operator sign in with the admin key, pick a tenant, and manage its endpoints, destinations, sources and keys", async () => {
    await page.goto(local.server.url);
    if (await page.getByRole("button", { name: "Sign out" }).count()) await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API key").fill("dev_admin_key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByLabel("Tenant").selectOption("demo");
    await page.getByRole("link", { name: "Settings" }).click();

    await page.getByLabel("URL", { exact: true }).fill(`${local.receiver.url}/customer-hook`);
    await page.getByLabel(/Event types/).fill("lead.created");
    // The endpoints form's own limit inputs (the destinations form has a pair too).
    await page.locator("#e-rate").fill("5");
    await page.locator("#e-concurrency").fill("2");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await expect.poll(async () => (await page.getByRole("status").textContent()) ?? "", { timeout: 15_000 }).toMatch(/signing secret, shown once: whsec_/);
    expect(await page.getByRole("table", { name: "Endpoints" }).textContent()).toContain("/customer-hook");
    expect(await page.getByRole("table", { name: "Endpoints" }).textContent()).toContain("active");
    expect(await page.getByRole("table", { name: "Endpoints" }).textContent()).toContain("limit: 5/s, 2 at once");

    // The form is the kinds table's: every kind is offered, each with its own fields.
    expect(await page.getByLabel("Kind").locator("option").allTextContents()).toEqual(expect.arrayContaining(["slack", "discord", "teams", "email", "crm", "ai"]));
    await page.getByLabel("Kind").selectOption("email");
    expect(await page.getByLabel("From", { exact: true }).count()).toBe(1);
    await page.getByLabel("Kind").selectOption("teams");
    expect(await page.getByLabel("From", { exact: true }).count()).toBe(0);
    await page.getByLabel("Kind").selectOption("slack");
    await page.getByLabel("Webhook URL").fill(`${local.receiver.url}/slack/T000/B000/secretpart9876`);
    await page.getByRole("button", { name: "Save destination" }).click();
    await expect.poll(async () => (await page.getByRole("table", { name: "Destinations" }).textContent()) ?? "", { timeout: 15_000 }).toContain("…9876");
    expect(await page.getByRole("table", { name: "Destinations" }).textContent()).not.toContain("secretpart");
    expect(await page.getByLabel("Webhook URL").inputValue()).toBe("");
    // A signed source: its secret leaves the form and shows masked.
    await page.getByLabel("Name", { exact: true }).fill("shop");
    await page.getByLabel("Scheme").selectOption("shopify");
    await page.getByLabel("Signing secret").fill("shpss_secretvalue4321");
    await page.getByRole("button", { name: "Save source" }).click();
    await expect.poll(async () => (await page.getByRole("table", { name: "Sources" }).textContent()) ?? "", { timeout: 15_000 }).toContain("…4321");
    expect(await page.getByRole("table", { name: "Sources" }).textContent()).not.toContain("secretvalue");
    expect(await page.getByLabel("Signing secret").inputValue()).toBe("");
    // demo is a TENANTS tenant: its keys live in that secret, which the page says.
    expect(await page.getByRole("heading", { name: "API keys" }).count()).toBe(1);
    // A schedule: created from a cron in a time zone, listed with its next firing, paused in place.
    await page.getByLabel(/^Cron/).fill("0 9 * * 1-5");
    await page.getByLabel("Time zone").fill("Europe/Berlin");
    await page.getByLabel("Event data (JSON, naming its entity)").fill('{"id":"L-dash"}');
    await page.getByRole("button", { name: "Create schedule" }).click();
    await expect.poll(async () => (await page.getByRole("table", { name: "Schedules" }).textContent()) ?? "", { timeout: 15_000 }).toContain("0 9 * * 1-5 (Europe/Berlin)");
    await page.getByRole("button", { name: /^Pause schedule sch_/ }).first().click();
    await expect.poll(async () => (await page.getByRole("table", { name: "Schedules" }).textContent()) ?? "", { timeout: 15_000 }).toContain("paused");
    // A backfill: started from the form, its progress read until it is done.
    await page.getByLabel("Handler", { exact: true }).selectOption("slack");
    await page.getByRole("button", { name: "Start backfill" }).click();
    await expect.poll(async () => (await page.getByRole("table", { name: "Backfills" }).textContent()) ?? "", { timeout: 30_000 }).toMatch(/done: (\d+) of \1 entities/);
    // Retention: saved, and read back as saved.
    await page.getByLabel(/^Keep events for/).fill("30");
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect.poll(async () => (await page.getByRole("status").textContent()) ?? "", { timeout: 15_000 }).toBe("Saved the settings.");
    expect((await (await fetch(`${local.server.url}/v1/settings`, { headers: { authorization: "Bearer dev_demo_key" } })).json()) as unknown).toMatchObject({ retention: { days: 30 } });
    await shot("settings");
  });
});
