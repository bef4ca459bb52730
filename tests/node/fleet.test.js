// A mixed fleet on one Redis: one conferbot-bff and two Node processes with
// the package's handler (`store: redisStore({ url })`), same API key, in
// front of a sandbox that allows 20 requests per 2 s. They share the
// policy's Redis layout (keys, Lua scripts, documents), so they share one
// rate window: a burst of 60 distinct GETs spread over the three all
// succeed, and the sandbox answers none of them 429. They share one cache
// too (a read through one is a hit through another), one event log (a
// delivery received by one reaches the event streams of another, once),
// the patched answers (a delivery to one patches what all of them serve,
// once, however many of them receive its retries), and one month's book
// (every call counted once for all; when the month is spent, all three
// answer the same 429 without a call). A second fleet caps each client's
// monthly calls (`window.lua`'s counters): spent through any, refused by all.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";

import { STARTER_KEY, startBffFor, startHandlerServer, startSandbox } from "./servers.js";

const RATE = "20/2s";
const SECRET = "whsec_fleet_test";
const BURST = 60;

/** A delivery of `event` for `botId` in the documented flat shape, signed: `{ body, headers }`. */
function signed(event, botId, responseId) {
  const timestamp = new Date().toISOString();
  const body = JSON.stringify({ event, chatSessionId: "sess_fleet", responseId, botId, visitorId: "visitor_fleet", timestamp });
  const headers = {
    "content-type": "application/json",
    "x-webhook-event": event,
    "x-webhook-timestamp": timestamp,
    "x-webhook-signature": createHmac("sha256", SECRET).update(body).digest("hex"),
  };
  return { body, headers };
}

/** `GET {api}/external/v1{path}` on `server`: `{ status, headers, json }`. */
async function read(server, path) {
  const response = await fetch(`${server.api}/external/v1${path}`);
  return { status: response.status, headers: response.headers, json: await response.json() };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The month's use as each server says it, once every one has read the shared
 * book again: servers re-read it at most once a second, in the background,
 * when asked (so: wait, ask each, let the reads land, ask again).
 */
async function monthUsed(fleet) {
  await sleep(1_100);
  for (const server of fleet) await read(server, "/chatbots?limit=1&page=1");
  await sleep(300);
  const used = [];
  for (const server of fleet) used.push((await read(server, "/chatbots?limit=1&page=1")).headers.get("x-quota-month-used"));
  return used;
}

/** A free port on 127.0.0.1 (redis-server cannot report one it chose). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Debian's redis-server on a free port, nothing persisted: `{ url, stop }`. */
async function startRedis() {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
  });
  return { url: `redis://127.0.0.1:${port}/0`, stop: () => child.kill("SIGKILL") };
}

describe(`a mixed fleet on one Redis: conferbot-bff and two Node handlers, upstream at ${RATE}`, () => {
  let redis;
  let sandbox;
  let fleet = [];
  before(async () => {
    redis = await startRedis();
    sandbox = await startSandbox(["--rate", RATE]);
    // No refresh budget: its getUsage (learning the plan) would be a call beyond the ones counted.
    const flags = ["--rate", RATE, "--redis", redis.url, "--refresh-budget", "off"];
    const env = { CONFERBOT_API_KEY: STARTER_KEY, CONFERBOT_WEBHOOK_SECRET: SECRET };
    fleet = await Promise.all([
      startBffFor(sandbox.api, STARTER_KEY, flags, env),
      startHandlerServer(["--upstream", sandbox.api, ...flags], env),
      startHandlerServer(["--upstream", sandbox.api, ...flags], env),
    ]);
  });
  after(() => {
    for (const server of fleet) server.stop();
    sandbox?.stop();
    redis?.stop();
  });

  test(`a burst of ${BURST} distinct GETs over the three: all 200, no upstream 429`, async () => {
    const started = await sandbox.admin.stats();
    const answers = await Promise.all(Array.from({ length: BURST }, async (_, i) => {
      const server = fleet[i % fleet.length];
      const response = await fetch(`${server.api}/external/v1/chatbots?limit=1&page=${i + 1}`);
      const body = await response.json();
      return { status: response.status, page: body.page, cache: response.headers.get("x-cache") };
    }));
    const stats = await sandbox.admin.stats();
    assert.deepEqual(answers.map((a) => a.status), Array(BURST).fill(200), JSON.stringify(answers.filter((a) => a.status !== 200)));
    assert.deepEqual(answers.map((a) => a.page), Array.from({ length: BURST }, (_, i) => i + 1));
    assert.equal(stats.rateLimited - started.rateLimited, 0, "the sandbox answered 429");
    assert.equal(stats.apiCalls - started.apiCalls, BURST, "one upstream call per distinct read");
  });

  test("one cache: a read through the BFF is a hit through a Node handler, and the other way", async () => {
    const [bff, node] = fleet;
    for (const [first, second, path] of [[bff, node, "/usage"], [node, bff, "/webhooks"]]) {
      const a = await fetch(`${first.api}/external/v1${path}`);
      await a.arrayBuffer();
      const b = await fetch(`${second.api}/external/v1${path}`);
      await b.arrayBuffer();
      assert.deepEqual([a.status, b.status], [200, 200]);
      assert.equal(b.headers.get("x-cache"), "hit", `${path}: ${a.headers.get("x-cache")} then ${b.headers.get("x-cache")}`);
    }
  });

  test("one event log: a delivery to a Node handler reaches an event stream on the BFF; the same delivery to the BFF is a duplicate", async () => {
    const [bff, node] = fleet;
    const stream = await fetch(`${bff.api}/events`);
    assert.equal(stream.status, 200);
    const reader = stream.body.getReader();
    const timestamp = new Date().toISOString();
    const body = JSON.stringify({ event: "response.created", chatSessionId: "sess_fleet", responseId: "65a1b2c3d4e5f6a7b8c9d0e1", botId: "64f8a2b3c1d4e5f6a7b8c9d0", visitorId: "visitor_fleet", timestamp });
    const headers = {
      "content-type": "application/json",
      "x-webhook-event": "response.created",
      "x-webhook-timestamp": timestamp,
      "x-webhook-signature": createHmac("sha256", SECRET).update(body).digest("hex"),
    };
    const first = await fetch(`${node.api}/webhooks/incoming`, { method: "POST", headers, body });
    const receipt = await first.json();
    assert.equal(first.status, 200, JSON.stringify(receipt));
    assert.equal(typeof receipt.data.id, "number");
    let text = "";
    const decoder = new TextDecoder();
    while (!text.includes(`id: ${receipt.data.id}\n`)) {
      const { value, done } = await reader.read();
      assert.equal(done, false, `the stream ended before the event: ${text}`);
      text += decoder.decode(value);
    }
    assert.ok(text.includes(`id: ${receipt.data.id}\nevent: response.created\ndata: ${body}\n`), text);
    await reader.cancel();
    const again = await fetch(`${bff.api}/webhooks/incoming`, { method: "POST", headers, body });
    assert.deepEqual(await again.json(), { data: { duplicate: true, received: true } });
  });

  test("patched answers are shared: a delivery to one server patches what all three serve, once, with 0 upstream calls", async () => {
    const [bff, node, other] = fleet;
    const list = await read(bff, "/chatbots");
    const bot = list.json.data[1];
    assert.equal((await read(other, `/chatbots/${bot.id}`)).status, 200);
    const before = (await sandbox.admin.stats()).apiCalls;
    const first = signed("response.created", bot.id, "65a1b2c3d4e5f6a7b8c9d0f1");
    // The sender's retries land on every server at once: applied once between them.
    const receipts = await Promise.all(fleet.map(async (server) => {
      const response = await fetch(`${server.api}/webhooks/incoming`, { method: "POST", ...first });
      return response.json();
    }));
    assert.equal(receipts.filter((r) => r.data.duplicate).length, 2, JSON.stringify(receipts));
    const second = await fetch(`${node.api}/webhooks/incoming`, { method: "POST", ...signed("response.created", bot.id, "65a1b2c3d4e5f6a7b8c9d0f2") });
    assert.equal(second.status, 200);
    for (const server of fleet) {
      const page = await read(server, "/chatbots");
      const one = await read(server, `/chatbots/${bot.id}`);
      assert.deepEqual([page.headers.get("x-cache"), one.headers.get("x-cache")], ["hit", "hit"], server.api);
      assert.equal(page.json.data[1].responseCount, bot.responseCount + 2, `${server.api}: two deliveries, each once`);
      assert.equal(one.json.data.responseCount, bot.responseCount + 2, server.api);
    }
    assert.equal((await sandbox.admin.stats()).apiCalls - before, 0, "no upstream call for the deliveries or the patched reads");
  });

  test("one month's book: every server's calls counted once for all, the same quota headers from all three", async () => {
    // The month was learned by the getUsage of the cache test.
    const before = await monthUsed(fleet);
    assert.ok(before[0] !== null, "the month is known");
    assert.deepEqual(before, Array(fleet.length).fill(before[0]), "one book");
    for (const [i, server] of fleet.entries()) {
      assert.equal((await read(server, `/chatbots?limit=2&page=${i + 1}`)).headers.get("x-cache"), "miss");
    }
    const after = await monthUsed(fleet);
    assert.deepEqual(after, Array(fleet.length).fill(String(Number(before[0]) + fleet.length)), "each call counted once");
  });

  test("a spent month: all three answer the same 429, with no upstream call", async () => {
    await sandbox.admin.setUsage(STARTER_KEY, 10_000);
    const refused = await read(fleet[1], "/chatbots?limit=3&page=1");
    assert.deepEqual([refused.status, refused.json.error], [429, "Monthly API limit reached"], "the upstream's refusal, learnt for all");
    await monthUsed(fleet);
    const before = (await sandbox.admin.stats()).apiCalls;
    const answers = [];
    for (const [i, server] of fleet.entries()) {
      const answer = await read(server, `/chatbots?limit=3&page=${i + 2}`);
      answers.push([answer.status, answer.json.error, answer.json.message.replace(/in \d+ s$/, "in N s"), answer.headers.get("x-quota-month-remaining")]);
    }
    assert.deepEqual(answers[0], [429, "Monthly API limit reached", "this month's API calls are spent; no call is made before the month turns, in N s", "0"]);
    assert.deepEqual(answers, Array(fleet.length).fill(answers[0]));
    assert.equal((await sandbox.admin.stats()).apiCalls - before, 0, "no call the upstream would refuse");
  });
});

describe("a mixed fleet's clients: each one's monthly calls counted once for the whole fleet", () => {
  let redis;
  let sandbox;
  let fleet = [];
  before(async () => {
    redis = await startRedis();
    sandbox = await startSandbox();
    // The client is X-Forwarded-For's behind the trusted proxy (here, the test itself).
    // No refresh budget: its getUsage (learning the plan) would spend one of the client's three calls.
    const flags = ["--rate", "100/1s", "--redis", redis.url, "--trusted-proxy", "127.0.0.1", "--client-monthly-calls", "3", "--refresh-budget", "off"];
    const env = { CONFERBOT_API_KEY: STARTER_KEY };
    fleet = await Promise.all([
      startBffFor(sandbox.api, STARTER_KEY, flags, env),
      startHandlerServer(["--upstream", sandbox.api, ...flags], env),
      startHandlerServer(["--upstream", sandbox.api, ...flags], env),
    ]);
  });
  after(() => {
    for (const server of fleet) server.stop();
    sandbox?.stop();
    redis?.stop();
  });

  const as = async (server, path, ip) => {
    const response = await fetch(`${server.api}/external/v1${path}`, { headers: { "x-forwarded-for": ip } });
    return { status: response.status, json: await response.json() };
  };

  test("three calls through three servers spend a client's month; the fourth is refused alike by any of them", async () => {
    const [bff, node, other] = fleet;
    const spent = [];
    for (const [page, server] of [[1, bff], [2, node], [3, other]]) spent.push((await as(server, `/chatbots?limit=1&page=${page}`, "198.51.100.9")).status);
    assert.deepEqual(spent, [200, 200, 200]);
    const refused = [];
    for (const [page, server] of [[4, bff], [5, node], [6, other]]) {
      const answer = await as(server, `/chatbots?limit=1&page=${page}`, "198.51.100.9");
      refused.push([answer.status, answer.json.error, answer.json.message.replace(/\d+ s/, "N s")]);
    }
    assert.equal(refused[0][0], 429, JSON.stringify(refused[0]));
    assert.deepEqual(refused, Array(3).fill(refused[0]), "the same refusal from every server");
    assert.equal((await as(other, "/chatbots?limit=1&page=7", "203.0.113.44")).status, 200, "another client goes on");
  });
});
