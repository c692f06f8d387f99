// The docs' tables that restate a declaration are written from it: the routes (src/api/), the
// event types and their handlers in order, each handler's description, the destination kinds with
// their deployment variables, the tenant settings and the error codes. `npm run docs` rewrites
// them between their markers, wherever in docs/ they stand; test/e2e/docs.test.ts fails when a
// committed file differs, so adding a route, a handler, a kind or a setting never means editing docs.
import { API } from "../../src/api/index.ts";
import { ERROR_CODES } from "../../src/api/errors.ts";
import type { RouteSpec } from "../../src/api/route.ts";
import { SETTINGS } from "../../src/control/settings.ts";
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

const AUTH: Record<RouteSpec["auth"], string> = { tenant: "tenant key", admin: "admin key", either: "either key", public: "none" };

function routes(): string {
  return [
    row(["method and path", "key", "what it does", "answers"]),
    "|---|---|---|---|",
    ...(Object.values(API) as RouteSpec[]).map((r) => row([code(`${r.method} ${r.path}`), AUTH[r.auth], r.summary.replace(/\|/g, "\\|"), Object.keys(r.answers).map(code).join(", ")])),
  ].join("\n");
}

function settings(): string {
  return [
    row(["setting", "takes", "what it does", "CLI option"]),
    "|---|---|---|---|",
    ...SETTINGS.map((s) => row([code(`${s.group}.${s.field}`), s.kind === "limit" ? `${s.min} to ${s.max}, or \`null\` (default)` : "`true` or `false` (default)", s.describe, code(`--${s.option}`)])),
  ].join("\n");
}

function errorCodes(): string {
  return ERROR_CODES.map(code).join(", ");
}

const SECTIONS: Record<string, () => string> = { routes, "event-types": eventTypes, handlers, "destination-kinds": kinds, settings, "error-codes": errorCodes };

/** A document with every generated section it holds rewritten; the names of those it holds. */
export function renderDoc(doc: string): { text: string; sections: string[] } {
  let out = doc;
  const sections: string[] = [];
  for (const [name, render] of Object.entries(SECTIONS)) {
    const open = `<!-- generated:${name} (npm run docs) -->`;
    const close = `<!-- /generated:${name} -->`;
    const start = out.indexOf(open);
    if (start < 0) continue;
    const end = out.indexOf(close);
    if (end < start) throw new Error(`${open} has no ${close}`);
    out = `${out.slice(0, start + open.length)}\n\n${render()}\n\n${out.slice(end)}`;
    sections.push(name);
  }
  return { text: out, sections };
}

/** Every generated section's name: each stands in one document of docs/. */
export const SECTION_NAMES = Object.keys(SECTIONS);
