import type { Command } from "commander";
import { Client } from "./client.ts";
import type { Output } from "./output.ts";

/** The global options as a command's action sees them. */
export function contextOf(command: Command): { client: Client; output: Output } {
  const options = command.optsWithGlobals<{ url: string; key?: string; json: boolean }>();
  return { client: new Client({ url: options.url, key: options.key }), output: { json: options.json } };
}
