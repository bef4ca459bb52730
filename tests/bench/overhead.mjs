// Client overhead per call over loopback: `listChatbots({limit: 100})`
// against the sandbox, one call at a time, both clients in this one process,
// alternating in rounds so that drift on a noisy machine hits both alike.
//
// config: { wasmEntry, baseUrl, apiKey, rounds, calls }
// result: per client, every call's milliseconds and the total time.

import { config, loadClient, report } from "./load-client.mjs";

const { wasmEntry, baseUrl, apiKey, rounds, calls } = config();
const clients = {
  wasm: new (await loadClient("wasm", wasmEntry))({ baseUrl, apiKey }),
  plain: new (await loadClient("plain"))({ baseUrl, apiKey }),
};
const result = { wasm: { ms: [], totalMs: 0 }, plain: { ms: [], totalMs: 0 } };

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

// Warm-up: JIT, connection pools, wasm tier-up.
for (const name of ["wasm", "plain"]) await burst(name, 50, false);
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? ["wasm", "plain"] : ["plain", "wasm"];
  for (const name of order) await burst(name, calls, true);
}
report(result);
