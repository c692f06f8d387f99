import { edgeflowOptions, startLocalServer } from "./lib/local-server.ts";
const server = await startLocalServer(edgeflowOptions({ rateLimit: 1_000_000_000 }), { persistDir: process.argv[2]! });
const r = await fetch(`${server.url}/v1/dead-letters?limit=50`, { headers: { authorization: "Bearer dev_demo_key" } });
console.log(JSON.stringify(await r.json(), null, 1).slice(0, 6000));
await server.stop();
