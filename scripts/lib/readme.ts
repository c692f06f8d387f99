// The README's tables that restate a registry are written from it: the event types and their
// handlers in order, each handler's description, and the destination kinds with their deployment
// variables. `npm run docs` rewrites them between their markers; test/e2e/docs.test.ts fails when
// the committed README differs, so adding a handler or a kind never means editing the README.
import { DEPLOYMENT_VARIABLES, HANDLER_DOCS, HANDLER_TABLE, KIND_FORMS } from "./registry.ts";

const code = (s: string) => `\`${s}\``;
const row = (cells: string[]) => `| ${cells.join(" | ")} |`;

function eventTypes(): string {
  return [
    row(["type", "required `data`", "handlers, in order"]),
    "|---|---|---|",
    ...HANDLER_TABLE.map((r) => row([code(r.type), r.describe, r.handlers.map(code).join(", ")])),
  ].join("\n");
}

function handlers(): string {
  return [
    row(["handler", "runs", "sends to", "what it does", "skipped when"]),
    "|---|---|---|---|---|",
    ...HANDLER_DOCS.map((h) => row([code(h.name), h.mode, h.destination ? `the \`${h.destination}\` destination` : "—", h.does, h.skippedWhen])),
  ].join("\n");
}

function kinds(): string {
  return [
    row(["kind", "what it is", "fields (`*` required; secrets answered masked)", "deployment variables", "unset"]),
    "|---|---|---|---|---|",
    ...KIND_FORMS.map((k) => {
      const vars = DEPLOYMENT_VARIABLES.filter((v) => v.kind === k.kind);
      const fields = k.fields.map((f) => `${code(f.name)}${f.required ? "*" : ""}${f.secret ? " (secret)" : ""}`).join(", ");
      return row([code(k.kind), k.summary, fields, vars.map((v) => code(v.variable)).join(", "), "its handlers' deliveries end `skipped`"]);
    }),
  ].join("\n");
}

const SECTIONS: Record<string, () => string> = { "event-types": eventTypes, handlers, "destination-kinds": kinds };

/** The README with every generated section rewritten; throws if a marker is missing. */
export function renderReadme(readme: string): string {
  let out = readme;
  for (const [name, render] of Object.entries(SECTIONS)) {
    const open = `<!-- generated:${name} (npm run docs) -->`;
    const close = `<!-- /generated:${name} -->`;
    const start = out.indexOf(open);
    const end = out.indexOf(close);
    if (start < 0 || end < start) throw new Error(`README has no ${open} … ${close} section`);
    out = `${out.slice(0, start + open.length)}\n\n${render()}\n\n${out.slice(end)}`;
  }
  return out;
}
