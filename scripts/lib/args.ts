// The one argument parser of the scripts: node:util's parseArgs, strict (an unknown flag is an
// error), with --help and a usage line, and checked conversions for numbers and lists.
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Config<O extends Options> = { args: string[]; options: O; strict: true; allowPositionals: false };

/** Parses `process.argv` (or `argv`) against `options`; prints `usage` and exits on --help or a bad flag. */
export function cli<const O extends Options>(usage: string, options: O, argv: string[] = process.argv.slice(2)): ReturnType<typeof parseArgs<Config<O>>>["values"] {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(`usage: ${usage}`);
    process.exit(0);
  }
  try {
    return parseArgs<Config<O>>({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\nusage: ${usage}`);
    process.exit(2);
  }
}

/** A number from a flag's text; undefined when the flag was not given. */
export function numberArg(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new Error(`--${flag} takes a number, not "${value}"`);
  return n;
}

/** A comma-separated list of numbers. */
export function numberListArg(value: string | undefined, flag: string): number[] | undefined {
  return value?.split(",").map((part) => numberArg(part, flag)!);
}
