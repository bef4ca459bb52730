// The `conferbot` CLI's export against a sandbox at the upstream's 60/60s:
// the calls it makes (counted by the sandbox: `GET /sandbox/stats`, after
// minus before) and its wall time, against the minimum possible (pages of
// chatbots + Σ pages of responses, read from a twin sandbox with the same
// seed and flags but no rate limit, over plain HTTP).
//
// config: { cli, api, statsUrl, truthApi, apiKey, out }

import { spawn } from "node:child_process";
import { rmSync } from "node:fs";

const { cli, api, statsUrl, truthApi, apiKey, out } = JSON.parse(process.argv[2]);

async function stats() {
  const response = await fetch(statsUrl);
  if (!response.ok) throw new Error(`GET ${statsUrl} answered ${response.status}`);
  return response.json();
}

/** Pages of one list at 100 a page, as the server's totalPages says (at least one call). */
async function pagesOf(path) {
  let pages = 0;
  const ids = [];
  for (let page = 1; ; page += 1) {
    const response = await fetch(`${truthApi}/external/v1${path}?page=${page}&limit=100`, { headers: { "x-api-key": apiKey } });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    const body = await response.json();
    pages += 1;
    ids.push(...body.data.map((item) => item.id));
    if (body.data.length === 0 || page >= body.totalPages) return { pages, ids };
  }
}

const chatbots = await pagesOf("/chatbots");
let responsePages = 0;
let responses = 0;
for (const id of chatbots.ids) {
  const list = await pagesOf(`/chatbots/${id}/responses`);
  responsePages += list.pages;
  responses += list.ids.length;
}

for (const suffix of ["", ".partial", ".checkpoint.json"]) rmSync(`${out}${suffix}`, { force: true });
const before = await stats();
const started = performance.now();
const exit = await new Promise((resolve, reject) => {
  const child = spawn(process.execPath, [cli, "--base-url", api, "export", "responses", "--out", out, "--quiet"], {
    env: { ...process.env, CONFERBOT_API_KEY: apiKey },
    stdio: ["ignore", "ignore", "inherit"],
  });
  child.on("error", reject);
  child.on("close", (code) => resolve(code));
});
const wallMs = performance.now() - started;
const after = await stats();
if (exit !== 0) throw new Error(`the export exited ${exit}`);
const requests = after.apiCalls - before.apiCalls;
const rateLimited = after.rateLimited - before.rateLimited;
console.log(JSON.stringify({
  chatbots: chatbots.ids.length,
  responses,
  minimumCalls: chatbots.pages + responsePages,
  requests,
  rateLimited,
  admitted: requests - rateLimited,
  wallMs,
}));
