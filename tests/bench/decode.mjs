// The decode cost of a 100-item page without the network: globalThis.fetch
// is replaced, before either client is loaded, by a stub answering a prebuilt
// Response with a real 100-item page of the sandbox. Both clients then run
// `listChatbots({limit: 100})` alternately; what remains is each client's
// request building, body reading, JSON decoding and field checks.
// Reference figures: the stub alone (Response + text()), and JSON.parse plus
// the plain client's field checks on the same text.
//
// config: { wasmEntry, baseUrl, apiKey, rounds, calls }

import { config, loadClient, report } from "./load-client.mjs";
import { pathToFileURL } from "node:url";

const { wasmEntry, baseUrl, apiKey, rounds, calls } = config();

const real = await fetch(`${baseUrl}/external/v1/chatbots?page=1&limit=100`, { headers: { "x-api-key": apiKey } });
const body = await real.text();
if (!real.ok) throw new Error(`the sandbox answered ${real.status}: ${body}`);
const headers = { "content-type": "application/json" };
globalThis.fetch = async () => new Response(body, { status: 200, headers });

const clients = {
  wasm: new (await loadClient("wasm", wasmEntry))({ baseUrl, apiKey }),
  plain: new (await loadClient("plain"))({ baseUrl, apiKey }),
};
// Pure decode functions the package might export, for the record.
const exported = Object.keys(await import(pathToFileURL(wasmEntry).href)).filter((k) => /decode|parse/i.test(k));

const checks = (c) => typeof c.id === "string" && typeof c.name === "string" && typeof c.status === "string"
  && (c.responseCount === undefined || Number.isInteger(c.responseCount))
  && typeof c.createdAt === "string" && typeof c.updatedAt === "string";
const references = {
  stub: async () => { await (await fetch("stub")).text(); },
  jsonParse: async () => {
    const page = JSON.parse(body);
    if (!page.data.every(checks)) throw new Error("check failed");
  },
};

const result = { wasm: [], plain: [], stub: [], jsonParse: [], bodyBytes: body.length, exported };

async function burst(name, count, record) {
  const call = references[name] ?? (() => clients[name].listChatbots({ limit: 100 }));
  const started = performance.now();
  for (let i = 0; i < count; i++) await call();
  // Microseconds per call, averaged over the burst (single calls are too short to time alone).
  if (record) result[name].push(((performance.now() - started) * 1000) / count);
}

const names = ["wasm", "plain", "stub", "jsonParse"];
for (const name of names) await burst(name, 200, false);
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? names : [...names].reverse();
  for (const name of order) await burst(name, calls, true);
}
report(result);
