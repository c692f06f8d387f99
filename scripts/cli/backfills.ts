// `edgeflow redeliver` (one entity's history to one handler again) and `edgeflow backfills` (the
// same across the tenant, walked by the server; progress polled and drawn with cli-progress).
import type { Command } from "commander";
import { Presets, SingleBar } from "cli-progress";
import type { BackfillAnswer } from "../../src/control/backfills.ts";
import type { Client } from "./client.ts";
import { CliError } from "./client.ts";
import { contextOf } from "./context.ts";
import { print, table, time, type Output } from "./output.ts";

/** How often --wait asks for progress. */
const POLL_MS = 500;

const progressText = (b: BackfillAnswer) => `${b.id} ${b.status}: ${b.entities.done}/${b.entities.total} entities, ${b.events} events → ${b.handler}`;

export function registerBackfillCommands(program: Command): void {
  program
    .command("redeliver")
    .description("Deliver an entity's events to one handler again, in order, with their original idempotency keys (Edgeflow-Replay: true)")
    .argument("<type>", "entity type, e.g. lead")
    .argument("<id>", "entity id, e.g. L-42")
    .requiredOption("--handler <name>", "the handler (e.g. slack, endpoint:ep_…)")
    .option("--from-seq <n>", "from this position in the entity's log (default 1)")
    .action(async (type: string, id: string, options: { handler: string; fromSeq?: string }, command: Command) => {
      const { client, output } = contextOf(command);
      const fromSeq = options.fromSeq === undefined ? undefined : Number(options.fromSeq);
      if (fromSeq !== undefined && !(Number.isInteger(fromSeq) && fromSeq >= 1)) throw new CliError("--from-seq takes a whole number from 1", 2);
      const answer = await client.api.replayEntity({ type, id, body: { handler: options.handler, ...(fromSeq !== undefined ? { fromSeq } : {}) } });
      print(output, answer, () => `${type}/${id}: ${answer.replayed} event(s) re-delivered to ${options.handler}`);
    });

  const backfills = program.command("backfills").description("A handler's history delivered again across every entity of the tenant (tenant key)");
  backfills
    .command("list", { isDefault: true })
    .description("Running backfills and the last finished ones")
    .action(async (_o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const { backfills: list } = await client.api.listBackfills();
      print(output, list, () =>
        list.length === 0
          ? "no backfills"
          : table(
              ["ID", "HANDLER", "STATUS", "ENTITIES", "EVENTS", "STARTED", "FINISHED"],
              list.map((b) => [b.id, b.handler, b.status, `${b.entities.done}/${b.entities.total}`, b.events, time(b.createdAt), time(b.finishedAt)]),
            ),
      );
    });
  backfills
    .command("start")
    .description("Start a backfill: every entity re-delivers its matching events to the handler")
    .requiredOption("--handler <name>", "the handler (e.g. crm, endpoint:ep_…)")
    .option("--types <types>", "comma-separated event types (default: all the handler takes)")
    .option("--since <time>", "only events that occurred at or after this ISO-8601 time")
    .option("--wait", "follow its progress until it is done")
    .action(async (options: { handler: string; types?: string; since?: string; wait?: boolean }, command: Command) => {
      const { client, output } = contextOf(command);
      const started = await client.api.createBackfill({
        body: {
          handler: options.handler,
          ...(options.types ? { eventTypes: options.types.split(",").map((t) => t.trim()) } : {}),
          ...(options.since ? { since: options.since } : {}),
        },
      });
      if (options.wait) await follow(client.api, output, started);
      else print(output, started, () => `started ${started.id}; follow it with: edgeflow backfills show ${started.id} --wait`);
    });
  backfills
    .command("show <id>")
    .description("A backfill's progress")
    .option("--wait", "follow it until it is done")
    .action(async (id: string, options: { wait?: boolean }, command: Command) => {
      const { client, output } = contextOf(command);
      const found = await client.api.getBackfill({ id });
      if (options.wait) await follow(client.api, output, found);
      else print(output, found, () => progressText(found));
    });
}

/** Polls until the backfill is done, with a progress bar on a terminal; prints the final state. */
async function follow(api: Client["api"], output: Output, first: BackfillAnswer): Promise<void> {
  const bar = output.json || !process.stderr.isTTY ? null : new SingleBar({ format: "backfill [{bar}] {value}/{total} entities | {events} events", stream: process.stderr }, Presets.shades_classic);
  bar?.start(first.entities.total, first.entities.done, { events: first.events });
  let current = first;
  while (current.status !== "done") {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    current = await api.getBackfill({ id: current.id });
    bar?.setTotal(current.entities.total);
    bar?.update(current.entities.done, { events: current.events });
  }
  bar?.stop();
  print(output, current, () => progressText(current));
}
