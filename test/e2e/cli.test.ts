// The real `edgeflow` CLI (npx edgeflow …) against a real local server and receiver.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { serverWithReceiver, waitFor } from "./harness.ts";

const ROOT = join(import.meta.dirname, "../..");

const local = serverWithReceiver({ FOLLOW_UP_DELAY_MS: "600000" });


interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `npx edgeflow …` with the server and key in the environment, as a user would set them. */
function start(args: string[], env: Record<string, string> = {}, stdin?: string) {
  const child = spawn("npx", ["edgeflow", ...args], {
    cwd: ROOT,
    env: { ...process.env, EDGEFLOW_URL: local.server.url, EDGEFLOW_API_KEY: "dev_demo_key", NO_COLOR: "1", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  child.stdin.end(stdin ?? "");
  const done = new Promise<Run>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return { done, stdout: () => stdout, stderr: () => stderr };
}

const edgeflow = (args: string[], env?: Record<string, string>, stdin?: string) => start(args, env, stdin).done;
const json = <T>(run: Run): T => JSON.parse(run.stdout) as T;

describe("edgeflow CLI", () => {
  it("has --help on every command, and a usage error exits 1 with the help", async () => {
    const help = await edgeflow(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["send", "tail", "entity", "dead-letters", "replay", "sign", "tenants", "keys", "destinations", "endpoints"]) expect(help.stdout).toContain(command);
    const sendHelp = await edgeflow(["send", "--help"]);
    expect(sendHelp.code).toBe(0);
    expect(sendHelp.stdout).toContain("--file");
    const sign = await edgeflow(["sign", "--scheme", "standard-webhooks", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--body", "examples/standard-webhooks-lead.json", "--source", "sw"]);
    expect(sign.code).toBe(0);
    expect(sign.stdout).toContain(`curl -s -X POST '${local.server.url}/v1/sources/demo/sw'`);
    expect(sign.stdout).toMatch(/-H 'webhook-signature: v1,[A-Za-z0-9+/=]+'/);
    const bad = await edgeflow(["entity"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("missing required argument");
  });

  it("sends one event, and JSON lines from stdin in batches with a summary; a rejected line makes the exit code 1", async () => {
    const run = Date.now().toString(36);
    const one = await edgeflow(["--json", "send", JSON.stringify({ id: `cli-${run}`, type: "lead.created", data: { id: `C-${run}`, email: "c@example.com", name: "C" } })]);
    expect(one.code).toBe(0);
    expect(json<{ status: string }>(one).status).toBe("accepted");

    const lines = Array.from({ length: 150 }, (_, i) => JSON.stringify({ id: `cli-${run}-${i}`, type: "lead.updated", data: { id: `C-${run}`, status: `s${i}` } }));
    lines.splice(120, 0, JSON.stringify({ type: "lead.updated", data: { id: `C-${run}`, email: "not-an-email" } }));
    lines.push(lines[0]!); // a repeat: duplicate
    const many = await edgeflow(["--json", "send"], {}, lines.join("\n"));
    expect(many.code).toBe(1);
    expect(json(many)).toMatchObject({ sent: 152, accepted: 150, duplicate: 1, rejected: 1, errors: [{ line: 121, code: "invalid_event" }] });

    const file = join(mkdtempSync(join(tmpdir(), "edgeflow-cli-")), "events.jsonl");
    writeFileSync(file, lines.slice(0, 10).join("\n") + "\n");
    const again = await edgeflow(["send", "--file", file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("10 sent: 0 accepted, 10 duplicate, 0 rejected");
    // A file named as the argument is read like --file.
    const named = await edgeflow(["send", file]);
    expect(named.code).toBe(0);
    expect(named.stdout).toContain("10 sent: 0 accepted, 10 duplicate, 0 rejected");
  });

  it("tails events and their deliveries live, and shows an entity's log with each delivery", async () => {
    const run = Date.now().toString(36);
    // Only lead.created and the deliveries of the events it saw: other tests' work may still be running.
    const tail = start(["--json", "tail", "--type", "lead.created", "--count", "4"]);
    const lead = `T-${run}`;
    let n = 0;
    // Sent until the tail shows one: the socket opens a moment after the command starts.
    await waitFor(
      async () => {
        await edgeflow(["send", JSON.stringify({ id: `tail-${run}-${n++}`, type: "lead.created", data: { id: lead, email: "t@example.com", name: "T" } })]);
        return tail.stdout().includes(lead);
      },
      () => `the tail to show a sent event (it printed: ${tail.stdout()}${tail.stderr()})`,
      30_000,
      500,
    );
    const result = await tail.done;
    expect(result.code).toBe(0);
    const messages = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as { kind: string; entity: { id: string }; handler?: string; status: string });
    expect(messages.length).toBe(4);
    expect(messages).toContainEqual(expect.objectContaining({ kind: "event", entity: expect.objectContaining({ id: lead }), status: "accepted" }));
    expect(messages.some((m) => m.kind === "delivery" && m.status === "succeeded")).toBe(true);

    const entity = await edgeflow(["entity", "lead", lead]);
    expect(entity.code).toBe(0);
    expect(entity.stdout).toContain(`lead/${lead}`);
    expect(entity.stdout).toMatch(/#1 {2}lead\.created/);
    expect(entity.stdout).toMatch(/database\s+succeeded/);
    const missing = await edgeflow(["entity", "lead", `nobody-${run}`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("404 not_found");
  });

  it("lists dead letters and replays one to success", async () => {
    const run = Date.now().toString(36);
    const id = `dl-${run}`;
    local.receiver.script(`${id}:slack`, [{ status: 410 }]);
    await edgeflow(["send", JSON.stringify({ id, type: "lead.created", data: { id: `D-${run}`, email: "d@example.com", name: "D" } })]);
    let letters: Array<{ id: string; eventId: string; handler: string }> = [];
    await waitFor(
      async () => {
        letters = json<typeof letters>(await edgeflow(["--json", "dead-letters", "--handler", "slack"])).filter((d) => d.eventId === id);
        return letters.length === 1;
      },
      "the dead letter",
      30_000,
      300,
    );
    const text = await edgeflow(["dead-letters", "--entity", `lead/D-${run}`]);
    expect(text.stdout).toContain(letters[0]!.id);
    const replayed = await edgeflow(["--json", "replay", letters[0]!.id]);
    expect(replayed.code).toBe(0);
    expect(json(replayed)).toEqual({ replayed: 1 });
    await waitFor(async () => (await edgeflow(["entity", "lead", `D-${run}`])).stdout.match(/slack\s+succeeded/) !== null, "the replayed delivery to succeed", 30_000, 300);
    expect((await edgeflow(["replay"])).code).toBe(2);
  });

  it("manages tenants, keys, destinations and endpoints, and refuses a wrong key with exit code 1", async () => {
    const name = `cli-${Date.now().toString(36)}`;
    const admin = { EDGEFLOW_API_KEY: "dev_admin_key" };
    expect((await edgeflow(["tenants", "create", name], admin)).code).toBe(0);
    expect((await edgeflow(["tenants", "list"], admin)).stdout).toContain(name);
    const key = json<{ key: string; id: string }>(await edgeflow(["--json", "keys", "create", name, "--label", "ci"], admin));
    expect(key.key).toMatch(new RegExp(`^ek_${name}_`));
    expect((await edgeflow(["keys", "list", name], admin)).stdout).toContain(key.id);

    const mine = { EDGEFLOW_API_KEY: key.key };
    const slack = await edgeflow(["destinations", "set", "slack", "--to", `${local.receiver.url}/hooks/slack-secret-path-1234`], mine);
    expect(slack.code, slack.stderr).toBe(0);
    expect((await edgeflow(["destinations"], mine)).stdout).toContain("…1234");
    // The options come from the kinds table: teams has only a URL, email a key and a sender.
    const teams = await edgeflow(["destinations", "set", "teams", "--to", `${local.receiver.url}/workflows/teams-9876`], mine);
    expect(teams.code, teams.stderr).toBe(0);
    const email = await edgeflow(["--json", "destinations", "set", "email", "--to", `${local.receiver.url}/email`, "--api-key", "re_cli_secret_5555", "--from", "cli@example.com"], mine);
    expect(json<Record<string, string>>(email)).toEqual({ url: `${local.receiver.url}/email`, apiKey: "…5555", from: "cli@example.com" });
    expect((await edgeflow(["destinations", "set", "pager", "--to", "https://example.com"], mine)).code).toBe(2);
    // Schedules: created with a cron in a time zone, listed, paused, deleted.
    const schedule = json<{ id: string; cron: string; timezone: string; nextAt: string }>(
      await edgeflow(["--json", "schedules", "create", "lead.updated", "--data", '{"id":"L-cli"}', "--cron", "0 9 * * 1-5", "--timezone", "Europe/Berlin"], mine),
    );
    expect(schedule).toMatchObject({ cron: "0 9 * * 1-5", timezone: "Europe/Berlin" });
    expect((await edgeflow(["schedules"], mine)).stdout).toContain(schedule.id);
    expect((await edgeflow(["schedules", "pause", schedule.id], mine)).stdout).toContain("paused");
    expect((await edgeflow(["schedules", "delete", schedule.id], mine)).code).toBe(0);
    const badCron = await edgeflow(["schedules", "create", "lead.updated", "--data", '{"id":"L-cli"}', "--cron", "whenever"], mine);
    expect([badCron.code, badCron.stderr]).toEqual([1, expect.stringContaining("400 invalid_request")]);
    const endpoint = json<{ id: string; secret: string }>(await edgeflow(["--json", "endpoints", "create", `${local.receiver.url}/endpoint`, "--types", "lead.created"], mine));
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect((await edgeflow(["endpoints", "list"], mine)).stdout).toContain(endpoint.id);
    expect((await edgeflow(["endpoints", "delete", endpoint.id], mine)).code).toBe(0);

    expect((await edgeflow(["keys", "revoke", name, key.id], admin)).code).toBe(0);
    const refused = await edgeflow(["destinations"], { EDGEFLOW_API_KEY: "ek_nobody_000" });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("401 unauthorized");
    expect((await edgeflow(["tenants", "delete", name], admin)).stdout).toContain("erasing");
  });
});
