// `edgeflow settings`: the tenant's settings (tenant key). Each option of `settings set` is a
// setting's declaration (src/control/settings.ts): a limit takes a whole number or `none`, a flag
// `yes` or `no`.
import type { Command } from "commander";
import { SETTINGS, settingValue, type SettingDef, type SettingsPatch, type TenantSettings } from "../../src/control/settings.ts";
import { CliError } from "./client.ts";
import { contextOf } from "./context.ts";
import { print } from "./output.ts";

const describe = (s: TenantSettings) => SETTINGS.map((setting) => `${setting.group}.${setting.field}: ${setting.show(settingValue(s, setting))}`).join("\n");

/** An option's value as the setting takes it, or a usage error. */
function valueOf(setting: SettingDef, text: string): number | boolean | null {
  const flag = `--${setting.option}`;
  if (setting.kind === "flag") {
    if (text !== "yes" && text !== "no") throw new CliError(`${flag} takes yes or no`, 2);
    return text === "yes";
  }
  if (text === "none") return null;
  const n = Number(text);
  if (!Number.isInteger(n) || n < setting.min || n > setting.max) throw new CliError(`${flag} takes a whole number from ${setting.min} to ${setting.max}, or none`, 2);
  return n;
}

/** commander's key for an option: `--retention-days` → `retentionDays`. */
const optionKey = (option: string) => option.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function registerSettingsCommands(program: Command): void {
  const settings = program.command("settings").description("The tenant's retention windows, erasure rule and D1 mirror (tenant key)");
  settings
    .command("show", { isDefault: true })
    .description("Show the settings")
    .action(async (_o: unknown, command: Command) => {
      const { client, output } = contextOf(command);
      const current = await client.api.getSettings();
      print(output, current, () => describe(current));
    });
  const set = settings.command("set").description("Change settings; what is not given stays");
  for (const setting of SETTINGS) set.option(`--${setting.option} <${setting.kind === "flag" ? "yes|no" : "n|none"}>`, setting.describe);
  set.action(async (options: Record<string, string | undefined>, command: Command) => {
    const { client, output } = contextOf(command);
    const patch: Record<string, Record<string, number | boolean | null>> = {};
    for (const setting of SETTINGS) {
      const text = options[optionKey(setting.option)];
      if (text !== undefined) (patch[setting.group] ??= {})[setting.field] = valueOf(setting, text);
    }
    // Made from the declarations, by the same groups and fields as SettingsPatch.
    const updated = await client.api.updateSettings({ body: patch as SettingsPatch });
    print(output, updated, () => describe(updated));
  });
}
