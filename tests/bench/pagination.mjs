// Auto-pagination over every chatbot of the sandbox (10,000) with
// `chatbots({limit: 100})`, in a fresh process per run (run with --expose-gc).
//
// mode "time":   how long, and the high-water mark of heapUsed and RSS above
//                the level before the loop (sampled every 10 items).
// mode "retain": a forced GC every 5 pages; the heap after each GC shows
//                whether anything grows with the items seen (it must not:
//                one page at a time). "Heap" here is heapUsed + external, so
//                that the wasm module's linear memory (an external
//                ArrayBuffer) is counted too. The growth is the least-squares
//                slope over the second half (the first half includes JIT
//                warm-up), per 1,000 items; it is compared with what keeping
//                1,000 chatbots costs, measured here too.
//
// config: { client, wasmEntry, baseUrl, apiKey, limit, expected, mode }

import { config, loadClient, report } from "./load-client.mjs";

const { client, wasmEntry, baseUrl, apiKey, limit, expected, mode } = config();
const api = new (await loadClient(client, wasmEntry))({ baseUrl, apiKey });

// Warm up the import and the connection with one page, then measure from a clean heap.
await api.listChatbots({ page: 1, limit });
globalThis.gc();
const before = process.memoryUsage();
let heapPeak = before.heapUsed;
let externalPeak = before.external;
let rssPeak = before.rss;
const afterGc = [];

let count = 0;
const started = performance.now();
for await (const bot of api.chatbots({ limit })) {
  if (typeof bot.id !== "string") throw new Error("an item without id");
  count++;
  if (mode === "time" && count % 10 === 0) {
    const now = process.memoryUsage();
    if (now.heapUsed > heapPeak) heapPeak = now.heapUsed;
    if (now.external > externalPeak) externalPeak = now.external;
    if (now.rss > rssPeak) rssPeak = now.rss;
  } else if (mode === "retain" && count % (limit * 5) === 0) {
    globalThis.gc();
    const now = process.memoryUsage();
    afterGc.push(now.heapUsed + now.external);
  }
}
const elapsed = performance.now() - started;
if (count !== expected) throw new Error(`${client}: iterated ${count} chatbots, expected ${expected}`);

/** Least-squares slope of `ys` against their index. */
function slope(ys) {
  const n = ys.length;
  const meanX = (n - 1) / 2;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => { num += (x - meanX) * (y - meanY); den += (x - meanX) ** 2; });
  return den === 0 ? 0 : num / den;
}

/** Heap bytes that keeping 1,000 decoded chatbots takes (the cost of not being flat). */
async function keepingCost() {
  const response = await fetch(`${baseUrl}/external/v1/chatbots?page=1&limit=100`, { headers: { "x-api-key": apiKey } });
  const body = await response.text();
  globalThis.gc();
  const start = process.memoryUsage().heapUsed;
  const kept = Array.from({ length: 100 }, () => JSON.parse(body).data);
  globalThis.gc();
  const cost = process.memoryUsage().heapUsed - start;
  if (kept.length !== 100) throw new Error("unreachable");
  return cost / 10;
}

const secondHalf = afterGc.slice(Math.floor(afterGc.length / 2));
const itemsPerSample = limit * 5;
report({
  ms: elapsed,
  count,
  heapPeakDelta: heapPeak - before.heapUsed,
  externalPeakDelta: externalPeak - before.external,
  rssPeakDelta: rssPeak - before.rss,
  growthPer1000: mode === "retain" ? (slope(secondHalf) * 1000) / itemsPerSample : null,
  keeping1000: mode === "retain" ? await keepingCost() : null,
  afterGc,
});
