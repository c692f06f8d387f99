// The table of destination kinds, derived from the handler registry: each kind is declared once,
// in the file of the handler that sends to it (destination-kind.ts). The control plane, TENANTS,
// OpenAPI, the dashboard, the CLI, the local receiver and the README read it from here.
import type { DestinationField, DestinationKindDef } from "./destination-kind.ts";
import { HANDLERS } from "./registry.ts";

function collect(): readonly DestinationKindDef[] {
  const found = new Map<string, DestinationKindDef>();
  for (const h of HANDLERS) {
    const kind: DestinationKindDef | undefined = h.destination;
    if (!kind) continue;
    const seen = found.get(kind.kind);
    // Two declarations of one name would make "the" kind depend on registry order.
    if (seen && seen !== kind) throw new Error(`destination kind ${kind.kind} is declared twice`);
    found.set(kind.kind, kind);
  }
  return [...found.values()];
}

/** Every destination kind, in the registry's order. */
export const DESTINATION_KINDS: readonly DestinationKindDef[] = collect();

/** The kinds' names. */
export const KIND_NAMES: readonly string[] = DESTINATION_KINDS.map((k) => k.kind);

/** A kind by name; own entries only, so a path segment like `__proto__` is just unknown. */
export function destinationKind(name: string): DestinationKindDef | undefined {
  return DESTINATION_KINDS.find((k) => k.kind === name);
}

/** The handlers that call out over HTTP to a destination: the ones a receiver sees. */
export function remoteHandlers(): Set<string> {
  return new Set(HANDLERS.filter((h) => h.destination !== undefined).map((h) => h.name));
}

/** A deployment variable with the kind it belongs to. */
export type DeploymentVariable = DestinationField & { kind: string };

/** Every deployment variable of every kind, once each, in table order. */
export function deploymentVariables(): DeploymentVariable[] {
  const seen = new Map<string, DeploymentVariable>();
  for (const kind of DESTINATION_KINDS) for (const field of kind.fields) if (!seen.has(field.variable)) seen.set(field.variable, { ...field, kind: kind.kind });
  return [...seen.values()];
}

/** The vars that point every handler at a local receiver at `url`. */
export function localSettings(url: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const v of deploymentVariables()) {
    if (!v.local) continue;
    vars[v.variable] = "path" in v.local ? `${url}${v.local.path}` : v.local.value;
  }
  return vars;
}

/** What the dashboard's form and the CLI need of each kind: plain JSON. */
export function kindForms(): Array<{ kind: string; summary: string; fields: Array<Pick<DestinationField, "name" | "label" | "type" | "required" | "secret">> }> {
  return DESTINATION_KINDS.map((k) => ({
    kind: k.kind,
    summary: k.summary,
    fields: k.fields.map(({ name, label, type, required, secret }) => ({ name, label, type, required, secret })),
  }));
}
