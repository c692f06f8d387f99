// How the CLI prints: tables for people, one JSON document (or JSON lines) with --json for scripts.
// Everything it prints that came from a server passes through `terminalSafe`: a receiver's error
// text (kept in lastError) or a tenant's labels must not drive the terminal.
import { withoutControls } from "../../src/text.ts";

export interface Output {
  json: boolean;
}

/**
 * Text without control characters, line by line (the CLI's own line breaks stay). JSON is already
 * escaped for C0 by JSON.stringify; C1 characters and bidi controls are removed the same way.
 */
export function terminalSafe(text: string): string {
  return text
    .split("\n")
    .map((line) => withoutControls(line))
    .join("\n");
}

/** Prints one line or block that may hold server text, made terminal-safe. */
export function say(text: string): void {
  console.log(terminalSafe(text));
}

/** Prints `value` as JSON with --json, else as the `human` text. */
export function print(output: Output, value: unknown, human: () => string): void {
  say(output.json ? JSON.stringify(value, null, 2) : human());
}

/** Columns aligned to their widest cell; empty cells shown as "-". */
export function table(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined || c === "" ? "-" : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
}

export const time = (at: number | string | null | undefined) => (at === null || at === undefined ? "-" : new Date(at).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z"));
