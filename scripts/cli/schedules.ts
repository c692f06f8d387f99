// `edgeflow schedules`: the tenant's recurring events (tenant key).
import type { Command } from "commander";
import { CliError } from "./client.ts";
import { contextOf } from "./context.ts";
import { print, table } from "./output.ts";

export function registerScheduleCommands(program: Command): void {
  const schedules = program.command("schedules").description("The tenant's recurring events: cron or every N seconds (tenant key)");
  schedules
    .command("list", { isDefault: true })
    .description("List schedules with their next firing and last refusal")
    .action(async (_o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const { schedules: list } = await client.api.listSchedules();
      print(output, list, () =>
        list.length === 0
          ? "no schedules"
          : table(
              ["ID", "NAME", "WHEN", "EVENT", "NEXT", "LAST ERROR"],
              list.map((s) => [s.id, s.name, s.cron ? `${s.cron} (${s.timezone})` : `every ${s.everySeconds} s`, `${s.event.type} ${String(s.event.data.id)}`, s.paused ? "paused" : (s.nextAt ?? "never"), s.lastError]),
            ),
      );
    });
  schedules
    .command("create <type>")
    .description("Create a schedule that sends an event of <type> with --data")
    .requiredOption("--data <json>", "the event's data, naming its entity: '{\"id\":\"L-42\"}'")
    .option("--cron <expression>", "5 fields (minute first) or 6 (second first)")
    .option("--every <seconds>", "fire every N seconds instead")
    .option("--timezone <zone>", "IANA time zone for --cron (default UTC)")
    .option("--name <name>", "what it is for")
    .action(async (type: string, options: { data: string; cron?: string; every?: string; timezone?: string; name?: string }, command: Command) => {
      const { client, output } = contextOf(command);
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(options.data) as Record<string, unknown>;
      } catch {
        throw new CliError("--data is not JSON", 2);
      }
      const every = options.every === undefined ? undefined : Number(options.every);
      if (every !== undefined && !Number.isInteger(every)) throw new CliError("--every takes whole seconds", 2);
      const created = await client.api.createSchedule({
        body: {
          event: { type, data },
          ...(options.cron ? { cron: options.cron } : {}),
          ...(every !== undefined ? { everySeconds: every } : {}),
          ...(options.timezone ? { timezone: options.timezone } : {}),
          ...(options.name ? { name: options.name } : {}),
        },
      });
      print(output, created, () => `created ${created.id}; fires next at ${created.nextAt}`);
    });
  for (const [name, paused] of [["pause", true], ["resume", false]] as const) {
    schedules
      .command(`${name} <id>`)
      .description(paused ? "Stop a schedule firing until it is resumed" : "Resume a paused schedule from now")
      .action(async (id: string, _o: unknown, command: Command) => {
        const { client, output } = contextOf(command);
        const updated = await client.api.updateSchedule({ id, body: { paused } });
        print(output, updated, () => (updated.paused ? `${id} paused` : `${id} resumed; fires next at ${updated.nextAt}`));
      });
  }
  schedules
    .command("delete <id>")
    .description("Delete a schedule")
    .action(async (id: string, _o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      await client.api.deleteSchedule({ id });
      print(output, { deleted: id }, () => `deleted ${id}`);
    });
}
