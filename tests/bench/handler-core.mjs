// The server half's own work per request, without the network: the
// handler's core (what toNodeListener feeds) over `n` uncached reads of
// 1,000 distinct pages, 16 at a time, each answered by an in-memory
// upstream (a `Response` built per call from a 10-item page in the
// sandbox's shape). Its one JSON argument is `{pkgDir, requests}`; it
// prints `{usPerRequest, requests, bytes}`. Used to choose the server wasm's
// opt-level (xtask/src/server_dist.rs): after `cargo xtask dist`,
// `node tests/bench/handler-core.mjs '{"pkgDir":"pkg","requests":40000}'`.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const config = JSON.parse(process.argv[2] ?? "{}");
const pkgDir = resolve(config.pkgDir ?? "pkg");
const n = Number(config.requests ?? 40_000);
const { createConferbotHandler } = await import(pathToFileURL(resolve(pkgDir, "server", "node.js")).href);

const bot = (i) => ({
  id: i.toString(16).padStart(24, "0"),
  name: `Assistant ${i}`,
  status: "active",
  responseCount: i % 97,
  createdAt: "2024-12-30T06:47:41.000Z",
  updatedAt: "2025-05-04T05:07:28.000Z",
});
const page = new TextEncoder().encode(
  JSON.stringify({ data: Array.from({ length: 10 }, (_, i) => bot(i)), pagination: { page: 1, limit: 10, total: 10_000, totalPages: 1_000 } }),
);
const date = new Date().toUTCString();
const upstream = async () => new Response(page, { status: 200, headers: { "content-type": "application/json", date, "content-length": String(page.length) } });
const h = createConferbotHandler({ apiKey: "bench-key", upstream: "http://127.0.0.1:9/api/v1", cacheTtlMs: 0, rate: "1000000/1s", fetch: upstream });
const core = h[Symbol.for("conferbot-wasm/server core")].core;
const headers = { host: "127.0.0.1:8080", accept: "*/*" };
const request = (i) => ({
  method: "GET",
  path: "/api/conferbot/external/v1/chatbots",
  query: `limit=10&page=${(i % 1000) + 1}`,
  absoluteForm: false,
  authority: undefined,
  peer: "127.0.0.1",
  original: null,
  header: (name) => headers[name],
  hasBody: false,
  readBody: async () => null,
});

async function run(total) {
  let next = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < total) {
      const out = await core(request(next++));
      if (out.status !== 200) throw new Error(`status ${out.status}: ${new TextDecoder().decode(out.body)}`);
      bytes += out.body.length;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return bytes;
}

await run(5_000); // warm-up: the wasm tiers up, the caches fill
const started = performance.now();
const bytes = await run(n);
const us = ((performance.now() - started) * 1000) / n;
console.log(JSON.stringify({ usPerRequest: Number(us.toFixed(1)), requests: n, bytes }));
