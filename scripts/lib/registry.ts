// The Worker's event registry, for Node scripts and tests: which handlers each event type lists,
// and which of them a receiver sees. Loaded by URL: its types reach the Worker's runtime types,
// which the Node project does not load.
import { remoteHandlers } from "../../src/handlers/settings.ts";

const registry = (await import(new URL("../../src/events/registry.ts", import.meta.url).href)) as {
  eventDefinitions(): ReadonlyArray<{ type: string; handlers: readonly string[]; internal?: boolean }>;
};

/** Per event type, the handlers it lists. */
export const HANDLERS_OF: ReadonlyMap<string, ReadonlySet<string>> = new Map(registry.eventDefinitions().map((d) => [d.type, new Set(d.handlers)]));

/** Per event type, the handlers whose calls a receiver sees, in the type's order. */
export function remoteHandlersOf(type: string): string[] {
  const remote = remoteHandlers();
  return [...(HANDLERS_OF.get(type) ?? [])].filter((h) => remote.has(h));
}
