// The data-plane commands: send, tail, entity, dead-letters, replay, sign.
import { existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { randomUUID } from "node:crypto";
import { SingleBar, Presets } from "cli-progress";
import { Option, type Command } from "commander";
import { signatureHeaders, SCHEMES, curlCommand } from "../sign.ts";
import type { DeadLetterEntry, DeadLetterPage } from "../../src/delivery/policy/dead-letters.ts";
import { LIVE_PROTOCOL, type EntityExport, type EntityView, type EventPage, type EventView, type LiveMessage } from "../../src/types.ts";
import { CliError, type Client } from "./client.ts";
import type { EnvelopeInput } from "../../client/index.ts";
import { contextOf } from "./context.ts";
import { print, say, table, time, type Output } from "./output.ts";

const BATCH = 100;

export function registerEventCommands(program: Command): void {
  program
    .command("send")
    .description("Send one event (JSON argument), or JSON lines from --file or stdin in batches of 100")
    .argument("[event]", "one event as JSON, e.g. '{\"type\":\"lead.created\",\"data\":{…}}', or a file of JSON lines")
    .option("-f, --file <path>", "a file of JSON lines, one event per line ('-' for stdin)")
    .action(async (event: string | undefined, options: { file?: string }, command: Command) => {
      const { client, output } = contextOf(command);
      // A readable file named as the argument is JSON lines, as with --file (an event is JSON, never a path).
      if (event !== undefined && !event.trimStart().startsWith("{") && existsSync(event)) return sendLines(client, output, event);
      if (event !== undefined) return sendOne(client, output, event);
      const source = options.file ?? (process.stdin.isTTY ? undefined : "-");
      if (!source) throw new CliError("give an event as JSON, --file FILE, or JSON lines on stdin", 2);
      await sendLines(client, output, source);
    });

  program
    .command("tail")
    .description("Watch the tenant's events and delivery outcomes live, until interrupted")
    .option("--type <type>", "only events of this type (and their deliveries)")
    .addOption(new Option("--count <n>", "exit after this many messages").argParser(positiveInt))
    .action(async (options: { type?: string; count?: number }, command: Command) => {
      const { client, output } = contextOf(command);
      await tail(client, output, options);
    });

  program
    .command("entity")
    .description("An entity's state, its event log and each event's deliveries")
    .argument("<type>", "entity type, e.g. lead")
    .argument("<id>", "entity id, e.g. L-42")
    .action(async (type: string, id: string, _options: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      await showEntity(client, output, type, id);
    });

  program
    .command("dead-letters")
    .description("List the tenant's dead letters")
    .option("--handler <name>", "only this handler's")
    .option("--entity <type/id>", "only this entity's")
    .action(async (options: { handler?: string; entity?: string }, command: Command) => {
      const { client, output } = contextOf(command);
      const letters = await deadLetters(client, options);
      print(output, letters, () =>
        letters.length === 0
          ? "no dead letters"
          : table(
              ["ID", "HANDLER", "EVENT", "ATTEMPTS", "DEAD AT", "LAST ERROR"],
              letters.map((d) => [d.id, d.handler, d.eventId, d.attempts, time(d.deadAt), (d.lastError ?? "").slice(0, 60)]),
            ),
      );
    });

  program
    .command("export")
    .description("Everything one entity holds, as one JSON document (state, every event with its deliveries, dead letters, scheduled events)")
    .argument("<type>", "entity type, e.g. lead")
    .argument("<id>", "entity id, e.g. L-42")
    .action(async (type: string, id: string, _options: unknown, command: Command) => {
      const { client } = contextOf(command);
      const document = await client.api.exportEntity({ type, id });
      // Always JSON: an export is for files and other programs.
      say(JSON.stringify(document, null, 2));
    });

  program
    .command("erase")
    .description("Erase one entity for good: its storage, D1 rows and dead letters; later events for it are refused (410)")
    .argument("<type>", "entity type, e.g. lead")
    .argument("<id>", "entity id, e.g. L-42")
    .requiredOption("--yes", "confirm: this cannot be undone")
    .action(async (type: string, id: string, _options: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      await client.api.deleteEntity({ type, id });
      print(output, { erased: { type, id } }, () => `erased ${type}/${id}`);
    });

  for (const [name, description] of [
    ["pause", "Hold an entity's deliveries (one handler's with --handler); events are still stored"],
    ["resume", "Release an entity's held deliveries (one handler's with --handler) to drain in order"],
  ] as const) {
    program
      .command(name)
      .description(description)
      .argument("<type>", "entity type, e.g. lead")
      .argument("<id>", "entity id, e.g. L-42")
      .option("--handler <name>", "only this handler (e.g. slack, endpoint:ep_…)")
      .action(async (type: string, id: string, options: { handler?: string }, command: Command) => {
        const { client, output } = contextOf(command);
        const answer = await client.api[name === "pause" ? "pauseEntity" : "resumeEntity"]({ type, id, body: options.handler ? { handler: options.handler } : {} });
        print(output, answer, () => (answer.paused.length === 0 ? `${type}/${id}: nothing paused` : `${type}/${id}: paused ${answer.paused.join(", ")}`));
      });
  }

  program
    .command("cancel")
    .description("End an entity's pending deliveries (one handler's with --handler) as skipped")
    .argument("<type>", "entity type, e.g. lead")
    .argument("<id>", "entity id, e.g. L-42")
    .option("--handler <name>", "only this handler")
    .option("--reason <text>", "why, shown on each delivery")
    .action(async (type: string, id: string, options: { handler?: string; reason?: string }, command: Command) => {
      const { client, output } = contextOf(command);
      const body = { ...(options.handler ? { handler: options.handler } : {}), ...(options.reason ? { reason: options.reason } : {}) };
      const answer = await client.api.cancelEntity({ type, id, body });
      print(output, answer, () => `${type}/${id}: ${answer.cancelled} deliveries cancelled`);
    });

  program
    .command("replay")
    .description("Replay dead letters: by id, by filter, or --all")
    .argument("[ids...]", "dead-letter ids (as listed by dead-letters)")
    .option("--handler <name>", "those of this handler")
    .option("--entity <type/id>", "those of this entity")
    .option("--all", "every dead letter of the tenant")
    .action(async (ids: string[], options: { handler?: string; entity?: string; all?: boolean }, command: Command) => {
      const { client, output } = contextOf(command);
      await replay(client, output, ids, options);
    });

  program
    .command("sign")
    .description("Sign a JSON body as a provider would, and print the curl command that sends it to a source")
    .addOption(new Option("--scheme <scheme>", "signature scheme").choices([...SCHEMES]).makeOptionMandatory())
    .requiredOption("--secret <secret>", "the source's secret")
    .requiredOption("--body <file>", "the JSON body")
    .option("--tenant <tenant>", "tenant", "demo")
    .option("--source <name>", "source name (default: the scheme)")
    .option("--id <id>", "message or delivery id (default: random)")
    .option("--event <event>", "the provider's event type, for schemes that send it in a header (GitHub: issues; Shopify: customers/create)")
    .option("--header <header>", "the signature header, for schemes where the source chooses it (hmac-sha256: X-Signature)")
    .action(async (options: { scheme: (typeof SCHEMES)[number]; secret: string; body: string; tenant: string; source?: string; id?: string; event?: string; header?: string }, command: Command) => {
      const { client } = contextOf(command);
      const body = new Uint8Array(readFileSync(options.body));
      const id = options.id ?? (options.scheme === "github" ? randomUUID() : `msg_${randomUUID()}`);
      const headers = await signatureHeaders(options.scheme, options.secret, body, { id, now: Date.now(), event: options.event, header: options.header });
      console.log(curlCommand(`${client.url}/v1/sources/${options.tenant}/${options.source ?? options.scheme}`, headers, options.body));
    });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`not a positive integer: ${value}`, 2);
  return n;
}

async function sendOne(client: Client, output: Output, text: string): Promise<void> {
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    throw new CliError("the event is not JSON", 2);
  }
  // The server validates it: the client passes on what it was given, and prints the contract's error otherwise.
  const result = await client.api.postEvent({ body: event as EnvelopeInput });
  print(output, result, () => `${result.status}: ${result.id} → ${result.entity.type}/${result.entity.id}${"seq" in result ? ` (seq ${result.seq})` : ""}`);
}

/** JSON lines in batches of 100, with a progress bar and a closing summary; exit 1 if any was rejected. */
async function sendLines(client: Client, output: Output, source: string): Promise<void> {
  const text = source === "-" ? await readStdin() : readFileSync(source, "utf8");
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const summary = { sent: lines.length, accepted: 0, duplicate: 0, rejected: 0, errors: [] as Array<{ line: number; code: string; message: string }> };
  const bar = output.json || !process.stderr.isTTY ? null : new SingleBar({ format: "sending [{bar}] {value}/{total} events | {accepted} accepted, {rejected} rejected", stream: process.stderr }, Presets.shades_classic);
  bar?.start(lines.length, 0, { accepted: 0, rejected: 0 });
  for (let start = 0; start < lines.length; start += BATCH) {
    const chunk = lines.slice(start, start + BATCH);
    // Each line is the server's to validate: the client passes on what it was given.
    const events: EnvelopeInput[] = [];
    const lineOf: number[] = [];
    chunk.forEach((line, i) => {
      try {
        events.push(JSON.parse(line) as EnvelopeInput);
        lineOf.push(start + i + 1);
      } catch {
        summary.rejected++;
        summary.errors.push({ line: start + i + 1, code: "invalid_json", message: "the line is not JSON" });
      }
    });
    if (events.length > 0) {
      const answer = await client.api.postBatch({ body: { events } });
      answer.results.forEach((item, i) => {
        if ("error" in item) {
          summary.rejected++;
          summary.errors.push({ line: lineOf[i]!, code: item.error.code, message: item.error.message });
        } else if (item.status === "duplicate") summary.duplicate++;
        else summary.accepted++;
      });
    }
    bar?.update(Math.min(lines.length, start + BATCH), { accepted: summary.accepted, rejected: summary.rejected });
  }
  bar?.stop();
  print(output, summary, () =>
    [`${summary.sent} sent: ${summary.accepted} accepted, ${summary.duplicate} duplicate, ${summary.rejected} rejected`, ...summary.errors.slice(0, 20).map((e) => `  line ${e.line}: ${e.code}: ${e.message}`)].join("\n"),
  );
  if (summary.rejected > 0) process.exitCode = 1;
}

async function readStdin(): Promise<string> {
  const parts: string[] = [];
  for await (const line of createInterface({ input: process.stdin })) parts.push(line);
  return parts.join("\n");
}

/** The live feed over a WebSocket, opened with a single-use ticket as a browser does (never the key itself). */
async function tail(client: Client, output: Output, options: { type?: string; count?: number }): Promise<void> {
  const url = `${client.url.replace(/^http/, "ws")}/v1/live`;
  const { ticket } = await client.api.liveTicket();
  const socket = new WebSocket(url, [LIVE_PROTOCOL, `ticket.${ticket}`]);
  const eventsOfType = new Set<string>();
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    const ping = setInterval(() => socket.readyState === WebSocket.OPEN && socket.send("ping"), 30_000);
    const finish = (err?: Error) => {
      clearInterval(ping);
      if (err) reject(err);
      else resolve();
    };
    socket.addEventListener("open", () => {
      if (!output.json) console.error(`watching ${client.url} (Ctrl-C to stop)`);
    });
    socket.addEventListener("error", () => finish(new CliError(`cannot watch ${url}: refused or unreachable (check --url and --key)`)));
    socket.addEventListener("close", () => finish());
    socket.addEventListener("message", (message) => {
      if (message.data === "pong") return;
      const m = JSON.parse(String(message.data)) as LiveMessage;
      if (options.type) {
        if (m.kind === "event" && m.type !== options.type) return;
        if (m.kind === "event") eventsOfType.add(m.id);
        if (m.kind === "delivery" && !eventsOfType.has(m.eventId)) return;
      }
      say(output.json ? JSON.stringify(m) : liveLine(m));
      if (options.count !== undefined && ++seen >= options.count) socket.close(1000);
    });
    process.once("SIGINT", () => socket.close(1000));
  });
}

function liveLine(m: LiveMessage): string {
  const at = new Date(m.at).toISOString().slice(11, 23);
  const entity = `${m.entity.type}/${m.entity.id}`;
  if (m.kind === "event") return `${at}  event     ${m.type}  ${entity}  ${m.id}  ${m.status}${m.seq ? ` (seq ${m.seq})` : ""}`;
  return `${at}  delivery  ${m.handler}  ${entity}  ${m.eventId}  ${m.status}  attempt ${m.attempt}  ${m.durationMs}ms${m.error ? `  ${m.error}` : ""}`;
}

async function showEntity(client: Client, output: Output, type: string, id: string): Promise<void> {
  const entity = await client.api.getEntity({ type, id });
  const events: EventView[] = [];
  let after: string | null = "0";
  while (after !== null) {
    const page: EventPage = await client.api.getEntityEvents({ type, id, query: { after: Number(after), limit: 500 } });
    events.push(...page.events);
    after = page.next;
  }
  print(output, { ...entity, log: events }, () => {
    const lines = [
      `${type}/${id}  version ${entity.version}  created ${time(entity.createdAt)}  updated ${time(entity.updatedAt)}`,
      `deliveries: ${Object.entries(entity.deliveries).map(([k, v]) => `${v} ${k}`).join(", ")}`,
      "",
      "state:",
      ...JSON.stringify(entity.state, null, 2).split("\n").map((l) => `  ${l}`),
      "",
      `log (${events.length} events):`,
    ];
    for (const e of events) {
      lines.push(`  #${e.seq}  ${e.type}  ${e.id}  received ${time(e.receivedAt)}`);
      for (const d of e.deliveries) {
        const when = d.completedAt ? `at ${time(d.completedAt)}` : d.nextAttemptAt ? `next try ${time(d.nextAttemptAt)}` : "";
        lines.push(`      ${d.handler.padEnd(16)} ${d.status.padEnd(10)} ${d.attempts} attempt(s)  ${when}${d.lastError ? `  ${d.lastError.slice(0, 80)}` : ""}`);
      }
    }
    return lines.join("\n");
  });
}

function entityFilter(value: string | undefined): { type: string; id: string } | undefined {
  if (value === undefined) return undefined;
  const slash = value.indexOf("/");
  if (slash <= 0) throw new CliError(`--entity takes TYPE/ID, got ${value}`, 2);
  return { type: value.slice(0, slash), id: value.slice(slash + 1) };
}

async function deadLetters(client: Client, options: { handler?: string; entity?: string }): Promise<DeadLetterEntry[]> {
  const entity = entityFilter(options.entity);
  const all: DeadLetterEntry[] = [];
  let cursor: string | null = "0";
  while (cursor !== null) {
    const page: DeadLetterPage = await client.api.listDeadLetters({ query: { limit: 500, cursor } });
    all.push(...page.deadLetters);
    cursor = page.next;
  }
  return all.filter((d) => (!options.handler || d.handler === options.handler) && (!entity || (d.entity.type === entity.type && d.entity.id === entity.id)));
}

/** Ids go 50 to a request with a progress bar; a filter or --all is one request the server pages through. */
async function replay(client: Client, output: Output, ids: string[], options: { handler?: string; entity?: string; all?: boolean }): Promise<void> {
  const entity = entityFilter(options.entity);
  if (ids.length === 0 && !options.handler && !entity && !options.all) throw new CliError("say what to replay: ids, --handler, --entity, or --all", 2);
  let replayed = 0;
  if (ids.length === 0) {
    replayed = (await client.api.replayDeadLetters({ body: { ...(options.handler ? { handler: options.handler } : {}), ...(entity ? { entity } : {}) } })).replayed;
  } else {
    const bar = output.json || !process.stderr.isTTY ? null : new SingleBar({ format: "replaying [{bar}] {value}/{total}", stream: process.stderr }, Presets.shades_classic);
    bar?.start(ids.length, 0);
    for (let i = 0; i < ids.length; i += 50) {
      const chunk = ids.slice(i, i + 50);
      replayed += (await client.api.replayDeadLetters({ body: { ids: chunk, ...(options.handler ? { handler: options.handler } : {}), ...(entity ? { entity } : {}) } })).replayed;
      bar?.update(Math.min(ids.length, i + 50));
    }
    bar?.stop();
  }
  print(output, { replayed }, () => `replayed ${replayed} dead letter(s); they are retried now`);
  if (ids.length > 0 && replayed < ids.length) process.exitCode = 1;
}
