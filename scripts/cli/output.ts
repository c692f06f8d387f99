// How the CLI prints: tables for people, one JSON document (or JSON lines) with --json for scripts.

export interface Output {
  json: boolean;
}

/** Prints `value` as JSON with --json, else as the `human` text. */
export function print(output: Output, value: unknown, human: () => string): void {
  console.log(output.json ? JSON.stringify(value, null, 2) : human());
}

/** Columns aligned to their widest cell; empty cells shown as "-". */
export function table(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined || c === "" ? "-" : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
}

export const time = (at: number | string | null | undefined) => (at === null || at === undefined ? "-" : new Date(at).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z"));
