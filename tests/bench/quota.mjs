// Simulated dashboard loads through a proxy: each load fetches chatbots
// page 1, usage and webhooks at once, as the dashboard does; `concurrency`
// clients run `loads` loads in all. The upstream calls they cost are counted
// by the sandbox (`GET /sandbox/stats` → apiCalls, before and after).
//
// config: { proxyBase, statsUrl, loads, concurrency }

import { config, report } from "./load-client.mjs";

const { proxyBase, statsUrl, loads, concurrency } = config();
const paths = ["/external/v1/chatbots?page=1&limit=20", "/external/v1/usage", "/external/v1/webhooks"];

async function apiCalls() {
  const response = await fetch(statsUrl);
  if (!response.ok) throw new Error(`GET ${statsUrl} answered ${response.status}`);
  const stats = await response.json();
  if (typeof stats.apiCalls !== "number") throw new Error(`no apiCalls in ${JSON.stringify(stats)}`);
  return stats.apiCalls;
}

const statuses = {};
const cache = {};
let next = 0;

async function client() {
  while (next < loads) {
    next++;
    await Promise.all(paths.map(async (path) => {
      const response = await fetch(`${proxyBase}${path}`);
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      const label = response.headers.get("x-cache") ?? "none";
      cache[label] = (cache[label] ?? 0) + 1;
    }));
  }
}

const before = await apiCalls();
const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, client));
const elapsedMs = performance.now() - started;
const after = await apiCalls();

report({ upstreamCalls: after - before, requests: loads * paths.length, statuses, cache, elapsedMs });
