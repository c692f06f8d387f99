// Every example in the docs that talks to a server runs verbatim against a real one: each ```sh
// block that names http://localhost:8787 is run by bash, in document order, with only the
// server's address and the local receiver's (127.0.0.1:9000) replaced by this test's. The README
// gets a fresh server of its own, as a new reader does; docs/ shares a second one, by file name. curl is wrapped to record each answer's status, so a stale path, a
// renamed field or a changed auth rule fails here instead of in a reader's terminal.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { serverWithReceiver } from "./harness.ts";

const ROOT = join(import.meta.dirname, "../..");
const FILES = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];

interface Example {
  file: string;
  line: number;
  script: string;
}

/** The shell blocks of a document that call the local server. */
function examplesOf(file: string): Example[] {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const found: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "```sh") continue;
    const end = lines.indexOf("```", i + 1);
    const script = lines.slice(i + 1, end).join("\n");
    if (/^(?:[A-Z]+=\$\()?curl .*(?:\n.*)*http:\/\/localhost:8787/m.test(script) && !/^npm (?:start|install|test)/m.test(script)) found.push({ file, line: i + 1, script });
    i = end;
  }
  return found;
}

const EXAMPLES = FILES.flatMap(examplesOf);
// The README's example is a first event on a new server, and so is the tour's.
const servers = { readme: serverWithReceiver(), docs: serverWithReceiver() };
let bin: string;
let statusLog: string;

beforeAll(() => {
  bin = mkdtempSync(join(tmpdir(), "edgeflow-docs-bin-"));
  statusLog = join(bin, "statuses");
  // curl as the reader runs it, plus one line per request: its status and its method and URL.
  const real = spawnSync("bash", ["-c", "command -v curl"], { encoding: "utf8" }).stdout.trim();
  writeFileSync(
    join(bin, "curl"),
    `#!/usr/bin/env bash
body=$(mktemp)
code=$(${real} -o "$body" -w '%{http_code}' "$@")
status=$?
echo "$code $(echo "$*" | tr '\n' ' ')" >> "${statusLog}"
cat "$body"
rm -f "$body"
exit $status
`,
  );
  chmodSync(join(bin, "curl"), 0o755);
});

describe("the docs' examples", () => {
  it("are found in the README and in docs/", () => {
    expect(EXAMPLES.map((e) => e.file)).toContain("README.md");
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(8);
  });

  for (const example of EXAMPLES) {
    it(`run verbatim: ${example.file}:${example.line}`, () => {
      const { server, receiver } = example.file === "README.md" ? servers.readme : servers.docs;
      const script = example.script.replaceAll("http://localhost:8787", server.url).replaceAll("http://127.0.0.1:9000", receiver.url);
      writeFileSync(statusLog, "");
      const run = spawnSync("bash", ["-e", "-o", "pipefail", "-c", script], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
        timeout: 60_000,
      });
      const context = `${example.file}:${example.line}\n${run.stdout}\n${run.stderr}`;
      expect(run.status, context).toBe(0);
      const requests = readFileSync(statusLog, "utf8").trim().split("\n").filter(Boolean);
      expect(requests.length, context).toBe((script.match(/^(?:[A-Z]+=\$\()?curl /gm) ?? []).length);
      for (const request of requests) {
        const status = Number(request.slice(0, 3));
        // A 4xx is right only where the example says it is coming (an error body, or its status).
        const expected = status < 400 || example.script.includes('"error"') || example.script.includes(String(status));
        expect(expected && status < 500, `${request}\n${context}`).toBe(true);
      }
      // An answer printed in full after a single request (no "…") is what the server answers.
      const printed = example.script.split("\n").filter((l) => /^# \{/.test(l));
      if (requests.length === 1 && printed.length === 1 && !printed[0]!.includes("…")) {
        const documented = printed[0]!.replace(/^# /, "").replace(/\s+\(HTTP \d+\)$/, "");
        expect(JSON.parse(run.stdout), context).toEqual(JSON.parse(documented));
      }
    });
  }
});
