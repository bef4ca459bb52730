// Client overhead per call against a static 100-item page on loopback: the
// body (a real page of the sandbox, fetched once) is served by a separate
// Node process that answers every request with it at once, so that the
// server's own work is as small as it gets and what differs between the
// clients is theirs. Three clients in this process, alternating in rounds
// after a warm-up: the wasm package, the plain-JS client, and the bare
// minimum: `fetch` + `JSON.parse` + the same field checks, nothing else.
//
// config: { wasmEntry, baseUrl, apiKey, rounds, calls }
// result: per client, every call's milliseconds and the total time.

import { spawn } from "node:child_process";
import { once } from "node:events";

import { config, loadClient, report } from "./load-client.mjs";

const { wasmEntry, baseUrl, apiKey, rounds, calls } = config();

const real = await fetch(`${baseUrl}/external/v1/chatbots?page=1&limit=100`, { headers: { "x-api-key": apiKey } });
const body = await real.text();
if (!real.ok) throw new Error(`the sandbox answered ${real.status}: ${body}`);

const server = spawn(process.execPath, ["-e", `
  const body = Buffer.from(process.env.BODY);
  const server = require("node:http").createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 60000;
  server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`], { env: { ...process.env, BODY: body }, stdio: ["ignore", "pipe", "inherit"] });
const [line] = await once(server.stdout, "data");
const origin = `http://127.0.0.1:${Number.parseInt(String(line), 10)}`;
const staticBase = `${origin}/api/v1`;

// The same checks as the package's generated checker makes of a chatbot page.
const isCount = (v) => Number.isInteger(v) && v >= 0;
const checked = (c) => typeof c === "object" && c !== null && typeof c.id === "string" && typeof c.name === "string"
  && typeof c.status === "string" && (c.responseCount === undefined || isCount(c.responseCount))
  && typeof c.createdAt === "string" && typeof c.updatedAt === "string";
const bareHeaders = { accept: "application/json", "x-api-key": apiKey };
const bare = {
  async listChatbots({ limit }) {
    const response = await fetch(`${staticBase}/external/v1/chatbots?page=1&limit=${limit}`, { headers: bareHeaders });
    const page = JSON.parse(await response.text());
    if (!response.ok || !Array.isArray(page.data) || !page.data.every(checked)) throw new Error("not a page");
    return page;
  },
};

const clients = {
  wasm: new (await loadClient("wasm", wasmEntry))({ baseUrl: staticBase, apiKey }),
  plain: new (await loadClient("plain"))({ baseUrl: staticBase, apiKey }),
  bare,
};
const names = Object.keys(clients);
const result = { bodyBytes: body.length };
for (const name of names) result[name] = { ms: [], totalMs: 0 };

async function burst(name, count, record) {
  const client = clients[name];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const before = performance.now();
    const page = await client.listChatbots({ limit: 100 });
    if (record) result[name].ms.push(performance.now() - before);
    if (page.data.length !== 100) throw new Error(`${name}: a page of ${page.data.length}, not 100`);
  }
  if (record) result[name].totalMs += performance.now() - started;
}

try {
  for (const name of names) await burst(name, 200, false);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) await burst(name, calls, true);
  }
} finally {
  server.kill();
}
report(result);
