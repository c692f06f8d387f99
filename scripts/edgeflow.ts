#!/usr/bin/env node
// The `edgeflow` command (package.json "bin"): `npx edgeflow --help`. Commander parses the
// arguments and writes every --help; cli-progress draws the progress bars (on stderr, so stdout
// stays clean for --json).
import { Command, Option } from "commander";
import { registerControlCommands } from "./cli/control.ts";
import { registerScheduleCommands } from "./cli/schedules.ts";
import { registerBackfillCommands } from "./cli/backfills.ts";
import { registerSettingsCommands } from "./cli/settings.ts";
import { registerEventCommands } from "./cli/events.ts";
import { CliError } from "./cli/client.ts";
import { terminalSafe } from "./cli/output.ts";

const program = new Command("edgeflow")
  .description("Operate an edgeflow server: send events, watch them fan out, inspect entities, replay dead letters, manage tenants.")
  .addOption(new Option("--url <url>", "the edgeflow server").env("EDGEFLOW_URL").default("http://localhost:8787"))
  .addOption(new Option("--key <key>", "a tenant's API key (the admin key for tenants and keys)").env("EDGEFLOW_API_KEY"))
  .option("--json", "print JSON for scripts instead of text", false)
  .showHelpAfterError()
  .exitOverride();

registerEventCommands(program);
registerControlCommands(program);
registerScheduleCommands(program);
registerBackfillCommands(program);
registerSettingsCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CliError) {
    // A refusal quotes the server's message: made terminal-safe like everything else it prints.
    console.error(terminalSafe(`edgeflow: ${err.message}`));
    process.exit(err.exitCode);
  }
  // Commander's own exits (--help, --version, a usage error) carry their code.
  const code = (err as { exitCode?: number }).exitCode;
  if (typeof code === "number") process.exit(code);
  console.error(terminalSafe(`edgeflow: ${err instanceof Error ? err.message : String(err)}`));
  process.exit(1);
}
