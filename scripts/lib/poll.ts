// Waiting in the scripts: poll a condition until it holds or a deadline passes, never a fixed sleep.

/** Polls `probe` every `everyMs` until it is true; throws naming `what` once `timeoutMs` has passed. */
export async function until(what: string | (() => string), probe: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
