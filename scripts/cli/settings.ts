// `edgeflow settings`: the tenant's retention windows, erasure rule and D1 mirror (tenant key).
import type { Command } from "commander";
import type { SettingsPatch, TenantSettings } from "../../src/control/settings.ts";
import { CliError } from "./client.ts";
import { contextOf } from "./context.ts";
import { print } from "./output.ts";

const describe = (s: TenantSettings) =>
  [
    `retention: ${s.retention.days === null ? "no time limit" : `${s.retention.days} days`}, ${s.retention.eventsPerEntity === null ? "no count limit" : `${s.retention.eventsPerEntity} events per entity`}`,
    `erased entities: ${s.erasure.allowRecreate ? "a new event creates them again" : "stay erased (410 entity_erased)"}`,
    `D1 mirror: ${s.mirror.events ? "state and a row per event" : "state only (no row per event)"}`,
  ].join("\n");

/** A limit, or `none` to clear it. */
function limit(value: string | undefined, flag: string): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === "none") return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} takes a whole number from 1, or none`, 2);
  return n;
}

export function registerSettingsCommands(program: Command): void {
  const settings = program.command("settings").description("The tenant's retention windows, erasure rule and D1 mirror (tenant key)");
  settings
    .command("show", { isDefault: true })
    .description("Show the settings")
    .action(async (_o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const current = await client.api.settings();
      print(output, current, () => describe(current));
    });
  settings
    .command("set")
    .description("Change settings; what is not given stays")
    .option("--retention-days <n>", "compact settled events older than n days (none: no limit)")
    .option("--events-per-entity <n>", "keep at most n events per entity (none: no limit)")
    .option("--allow-recreate <yes|no>", "whether a new event creates an erased entity again")
    .option("--mirror-events <yes|no>", "whether the D1 mirror also keeps a row per event")
    .action(async (options: { retentionDays?: string; eventsPerEntity?: string; allowRecreate?: string; mirrorEvents?: string }, command: Command) => {
      const { client, output } = contextOf(command);
      const days = limit(options.retentionDays, "--retention-days");
      const count = limit(options.eventsPerEntity, "--events-per-entity");
      if (options.allowRecreate !== undefined && !["yes", "no"].includes(options.allowRecreate)) throw new CliError("--allow-recreate takes yes or no", 2);
      if (options.mirrorEvents !== undefined && !["yes", "no"].includes(options.mirrorEvents)) throw new CliError("--mirror-events takes yes or no", 2);
      const patch: SettingsPatch = {
        ...(days !== undefined || count !== undefined ? { retention: { ...(days !== undefined ? { days } : {}), ...(count !== undefined ? { eventsPerEntity: count } : {}) } } : {}),
        ...(options.allowRecreate !== undefined ? { erasure: { allowRecreate: options.allowRecreate === "yes" } } : {}),
        ...(options.mirrorEvents !== undefined ? { mirror: { events: options.mirrorEvents === "yes" } } : {}),
      };
      const updated = await client.api.updateSettings(patch);
      print(output, updated, () => describe(updated));
    });
}
