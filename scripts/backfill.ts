// `npm run backfill`: a backfill of many entities, end to end on a local production-style server
// (workerd through Miniflare) with a real local receiver. N leads get one event each and their
// Slack delivery; then `POST /v1/backfills` replays Slack for all of them while this prints the
// progress `GET /v1/backfills/{id}` reports. It checks every lead got exactly one replayed call
// (Edgeflow-Replay: true, its original key) and prints how long the walk and the deliveries took.
import { cli, numberArg } from "./lib/args.ts";
import { httpClient } from "./lib/load.ts";
import { until } from "./lib/poll.ts";
import { edgeflowOptions, startLocalServer } from "./lib/local-server.ts";
import { receiverVars, startReceiver } from "./receiver.ts";

const AUTH = { authorization: "Bearer dev_demo_key" };

interface Backfill {
  id: string;
  status: string;
  entities: { done: number; total: number };
  events: number;
}

const values = cli("npm run backfill -- [--entities N (default 10000)] [--rate N (BACKFILL_RATE, default 50)]", {
  entities: { type: "string", default: "10000" },
  rate: { type: "string", default: "50" },
});
const entities = numberArg(values.entities, "entities")!;
const rate = numberArg(values.rate, "rate")!;
const receiver = await startReceiver();
const server = await startLocalServer(edgeflowOptions({ vars: { SLACK_WEBHOOK_URL: receiverVars(receiver.url).SLACK_WEBHOOK_URL!, FOLLOW_UP_DELAY_MS: "3600000", BACKFILL_RATE: String(rate) }, rateLimit: 1_000_000 }));
const client = httpClient(server.url, 16);
const run = `bf${Date.now().toString(36)}`;
const lead = (i: number) => `${run}-${i}`;

/** The longest any one wait of the run may take. */
const WAIT_MS = 600_000;

const slackCalls = (replay: boolean) => receiver.calls.filter((c) => c.status < 300 && c.headers["edgeflow-handler"] === "slack" && (c.headers["edgeflow-replay"] === "true") === replay).length;

try {
  console.log(`seeding ${entities} leads, one lead.updated each …`);
  const seedStart = Date.now();
  const batches = Array.from({ length: Math.ceil(entities / 100) }, (_, b) =>
    Array.from({ length: Math.min(100, entities - b * 100) }, (_, j) => ({ id: `${lead(b * 100 + j)}-1`, type: "lead.updated", data: { id: lead(b * 100 + j), step: "1" } })),
  );
  // Each batch is sent until every event in it is stored, as a webhook sender would.
  const sendBatch = async (events: unknown[]) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await client.send("POST", "/v1/events/batch", JSON.stringify({ events }), AUTH);
        const results = (answer.body as { results?: Array<{ status?: string }> }).results ?? [];
        if (answer.status === 207 && results.every((r) => r.status === "accepted" || r.status === "duplicate")) return;
        if (attempt === 10) throw new Error(`a batch was refused: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
      } catch (err) {
        if (attempt === 10) throw err;
      }
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  };
  const WAVE = 20; // batches of 100
  for (let w = 0; w < batches.length; w += WAVE) {
    const wave = batches.slice(w, w + WAVE);
    for (let i = 0; i < wave.length; i += 4) await Promise.all(wave.slice(i, i + 4).map(sendBatch));
    const target = Math.min(entities, (w + WAVE) * 100);
    await until(() => `the first Slack deliveries (${slackCalls(false)} of ${target})`, () => slackCalls(false) >= target, WAIT_MS);
  }
  console.log(`  ${entities} leads stored and delivered in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

  const start = Date.now();
  const started = (await client.send("POST", "/v1/backfills", JSON.stringify({ handler: "slack", eventTypes: ["lead.updated"] }), AUTH)).body as Backfill;
  console.log(`backfill ${started.id}: ${started.entities.total} entities listed`);
  let current = started;
  let printed = 0;
  await until("the backfill to finish", async () => {
    current = (await client.send("GET", `/v1/backfills/${started.id}`, undefined, AUTH)).body as Backfill;
    if (Date.now() - printed > 2_000) {
      printed = Date.now();
      console.log(`  ${((Date.now() - start) / 1000).toFixed(1)} s: ${current.entities.done}/${current.entities.total} entities, ${current.events} events, ${slackCalls(true)} replayed calls in`);
    }
    return current.status === "done";
  }, WAIT_MS);
  const walked = Date.now() - start;
  const perLead = new Map<string, number>();
  const countReplays = () => {
    perLead.clear();
    for (const c of receiver.calls) {
      if (c.status < 300 && c.headers["edgeflow-handler"] === "slack" && c.headers["edgeflow-replay"] === "true") perLead.set(c.headers["edgeflow-entity"] ?? "", (perLead.get(c.headers["edgeflow-entity"] ?? "") ?? 0) + 1);
    }
    return perLead.size;
  };
  await until(() => `every lead's replayed call (${perLead.size} of ${entities})`, () => countReplays() >= entities, WAIT_MS);
  const delivered = Date.now() - start;
  const twice = [...perLead.values()].filter((n) => n > 1).length;
  console.log(`\nbackfill of ${current.entities.total} entities (${current.events} events), BACKFILL_RATE ${rate}:`);
  console.log(`  walked in ${(walked / 1000).toFixed(1)} s (${Math.round(current.entities.total / (walked / 1000))} entities/s)`);
  console.log(`  every replayed call in after ${(delivered / 1000).toFixed(1)} s (${Math.round(entities / (delivered / 1000))} deliveries/s)`);
  console.log(`  leads replayed: ${perLead.size} of ${entities}; replayed more than once: ${twice}`);
  const retried = server.output().split("\n").filter((line) => line.includes("backfill call failed")).length;
  console.log(`  entity calls retried by the walk: ${retried}`);
  if (current.entities.done !== current.entities.total || perLead.size !== entities || twice > 0) process.exitCode = 1;
} catch (err) {
  console.error(`${err instanceof Error ? err.message : String(err)}\n--- server output (last 3000 characters) ---\n${server.output().slice(-3000)}`);
  process.exitCode = 1;
} finally {
  client.close();
  await server.discard();
  await receiver.close();
}
