// The server process of a local run: workerd through Miniflare, the way production serves a
// Worker, with no dev proxy in front. The parent (scripts/lib/local-server.ts) writes the
// options file and owns this process group, so it can stop it or SIGKILL it mid-write.
//   node scripts/lib/serve.ts OPTIONS.json
import { readFileSync } from "node:fs";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";

const optionsFile = process.argv[2];
if (!optionsFile) {
  console.error("usage: node scripts/lib/serve.ts OPTIONS.json");
  process.exit(2);
}
const { shared, worker } = JSON.parse(readFileSync(optionsFile, "utf8"));
// wrangler describes a Worker in Miniflare's v4 option shape; Miniflare 5 converts it.
const mf = new Miniflare(convertV4MiniflareOptions({ ...shared, cf: false, log: new Log(LogLevel.WARN), workers: [{ name: "edgeflow", ...worker }] }));
const url = await mf.ready;
// The parent waits for this line.
console.log(`ready ${url.href}`);

const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
