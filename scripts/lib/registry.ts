// The Worker's registries, for Node scripts and tests: which handlers each event type runs, which
// of them a receiver sees, and the destination kinds. Loaded by URL: their types reach the Worker's
// runtime types, which the Node project does not load.

/** A destination kind's form: what the CLI's options and the dashboard's form are made of. */
export interface KindForm {
  kind: string;
  summary: string;
  fields: Array<{ name: string; label: string; type: "url" | "text"; required: boolean; secret: boolean }>;
}

/** A deployment variable of a destination kind. */
export interface DeploymentVariable {
  variable: string;
  kind: string;
  name: string;
  required: boolean;
  local?: { path: string } | { value: string };
}

/** An event type and the handlers it runs, in order. */
export interface HandlerRow {
  type: string;
  describe: string;
  internal: boolean;
  handlers: readonly string[];
}

/** A handler as the README describes it. */
export interface HandlerDoc {
  name: string;
  mode: string;
  destination: string | null;
  does: string;
  skippedWhen: string;
}

const handlers = (await import(new URL("../../src/handlers/registry.ts", import.meta.url).href)) as {
  handlerTable(): HandlerRow[];
  handlerDocs(): HandlerDoc[];
};
const kinds = (await import(new URL("../../src/handlers/kinds.ts", import.meta.url).href)) as {
  remoteHandlers(): Set<string>;
  kindForms(): KindForm[];
  deploymentVariables(): DeploymentVariable[];
  localSettings(url: string): Record<string, string>;
};

/** Per event type, its handlers in the order they run. */
export const HANDLER_TABLE: readonly HandlerRow[] = handlers.handlerTable();

/** Every handler's description, endpoints last. */
export const HANDLER_DOCS: readonly HandlerDoc[] = handlers.handlerDocs();

/** Per event type, the handlers it runs. */
export const HANDLERS_OF: ReadonlyMap<string, ReadonlySet<string>> = new Map(HANDLER_TABLE.map((row) => [row.type, new Set(row.handlers)]));

/** Per event type, the handlers whose calls a receiver sees, in the type's order. */
export function remoteHandlersOf(type: string): string[] {
  const remote = kinds.remoteHandlers();
  return [...(HANDLERS_OF.get(type) ?? [])].filter((h) => remote.has(h));
}

/** Every destination kind, in the registry's order. */
export const KIND_FORMS: readonly KindForm[] = kinds.kindForms();

/** Every deployment variable of every kind. */
export const DEPLOYMENT_VARIABLES: readonly DeploymentVariable[] = kinds.deploymentVariables();

/** The vars that point every handler at a local receiver at `url`. */
export const localSettings = (url: string): Record<string, string> => kinds.localSettings(url);
