import type { TestProject } from "vitest/node";
import { startReceiver } from "../../scripts/receiver.ts";

declare module "vitest" {
  export interface ProvidedContext {
    receiverUrl: string;
  }
}

/** One real local HTTP receiver for the workerd tests; they script it over its control API. */
export default async function setup(project: TestProject) {
  const receiver = await startReceiver();
  project.provide("receiverUrl", receiver.url);
  return () => receiver.close();
}
