// The npm server half keeps the cache and the month as conferbot-bff does,
// because both run the policy's rules (issue 9): a signed delivery patches
// the answers each holds (once per delivery, 0 upstream calls), a stale
// (with patching off, both read again), a stale answer is served at once
// while one background call refreshes it, the quota headers follow one rule
// on both, a monthly budget stops both at the same call and a spent month is
// answered with the same 429, without a call.
// Each pair is the real `conferbot-bff` binary and the package's handler
// under Node (`http.createServer(toNodeListener(h))`), in front of sandboxes.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, describe, test } from "node:test";

import { pkgDir, STARTER_KEY, startBffFor, startSandbox } from "./servers.js";

const { createConferbotHandler, toNodeListener } = await import(pathToFileURL(join(pkgDir, "server", "node.js")).href);
const FAST = "1000/1s";
const SECRET = "whsec_handler_quota";

/** The handler on `http.createServer(toNodeListener(h))`: `{ api, stop }`. */
async function serveHandler(options) {
  const server = createServer(toNodeListener(createConferbotHandler(options)));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    api: `http://127.0.0.1:${server.address().port}/api/conferbot`,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

/**
 * A BFF and a handler with the same settings (BFF flags, handler options),
 * on `sandboxes` (one shared, or one each): `{ bff, handler, both, stop }`.
 */
async function pair({ flags = [], options = {}, sandboxes }) {
  const [forBff, forHandler] = sandboxes;
  const bff = await startBffFor(forBff.api, STARTER_KEY, ["--rate", FAST, ...flags], { CONFERBOT_WEBHOOK_SECRET: SECRET });
  const handler = await serveHandler({ apiKey: STARTER_KEY, upstream: forHandler.api, rate: FAST, webhookSecret: SECRET, ...options });
  return { bff, handler, both: [bff, handler], stop: async () => { bff.stop(); await handler.stop(); } };
}

/** `GET {api}/external/v1{path}`: `{ status, headers, text, json }`. */
async function get(server, path) {
  const response = await fetch(`${server.api}/external/v1${path}`);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: text.startsWith("{") ? JSON.parse(text) : null };
}

/** A delivery of `event` for `botId` in the documented flat shape, signed: `{ body, headers }`. */
function delivery(event, botId, responseId) {
  const timestamp = new Date().toISOString();
  const body = JSON.stringify({ event, chatSessionId: "sess_quota", responseId, botId, visitorId: "visitor_quota", timestamp });
  const headers = {
    "content-type": "application/json",
    "x-webhook-event": event,
    "x-webhook-timestamp": timestamp,
    "x-webhook-signature": createHmac("sha256", SECRET).update(body).digest("hex"),
  };
  return { body, headers };
}

/** Posts `sent` (a `delivery()`) to `server`'s receiver: `{ status, json }`. */
async function deliver(server, sent) {
  const response = await fetch(`${server.api}/webhooks/incoming`, { method: "POST", ...sent });
  return { status: response.status, json: await response.json() };
}

const calls = async (sandbox) => (await sandbox.admin.stats()).apiCalls;
const quota = (answer, name) => answer.headers.get(`x-quota-${name}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the handler applies events, revalidates and keeps the month as conferbot-bff does", () => {
  const running = [];
  const start = async (what) => {
    const started = await what;
    running.push(started);
    return started;
  };
  after(async () => {
    for (const thing of running.reverse()) await thing.stop();
  });

  test("a delivery patches the cached answers of both, once per delivery, with 0 upstream calls", async () => {
    const sandbox = await start(startSandbox());
    const { both } = await start(pair({ sandboxes: [sandbox, sandbox] }));
    const first = await get(both[0], "/chatbots");
    const bot = first.json.data[1];
    for (const server of both) {
      for (const path of ["/chatbots", `/chatbots/${bot.id}`, `/chatbots/${bot.id}/responses`]) await get(server, path);
    }
    const before = await calls(sandbox);
    for (const server of both) {
      const sent = delivery("response.created", bot.id, "65a1b2c3d4e5f6a7b8c9d0e1");
      const created = await deliver(server, sent);
      assert.equal(created.status, 200);
      assert.equal(typeof created.json.data.id, "number");
      const retried = await deliver(server, sent);
      assert.deepEqual(retried.json, { data: { duplicate: true, received: true } }, "a sender's retry");
      await deliver(server, delivery("response.created", bot.id, "65a1b2c3d4e5f6a7b8c9d0e2"));
      await deliver(server, delivery("conversation.started", bot.id, undefined));
    }
    const served = [];
    for (const server of both) {
      const list = await get(server, "/chatbots");
      const one = await get(server, `/chatbots/${bot.id}`);
      assert.deepEqual([list.headers.get("x-cache"), one.headers.get("x-cache")], ["hit", "hit"]);
      assert.equal(list.json.data[1].responseCount, bot.responseCount + 2, "two deliveries, each once");
      assert.equal(one.json.data.responseCount, bot.responseCount + 2);
      served.push(list.text);
    }
    assert.equal(served[1], served[0], "the same patched page, byte for byte");
    assert.equal((await calls(sandbox)) - before, 0, "no upstream call for any delivery or patched read");
    // A new response's content is not in the delivery: its chatbot's responses
    // are stale, read again at the pace of the refresh budget (10% of the
    // plan, learned with one getUsage before the first read: 4 keys × 31 days
    // / 1,000 calls, hours), so served from what is held meanwhile.
    const reread = [];
    for (const server of both) reread.push((await get(server, `/chatbots/${bot.id}/responses`)).headers.get("x-cache"));
    assert.deepEqual(reread, ["stale", "stale"]);
    assert.equal((await calls(sandbox)) - before, 0, "no re-read within the interval");
  });

  test("with refreshBudget \"off\" (--refresh-budget off), a delivery's stale responses are read again at once by both", async () => {
    const sandbox = await start(startSandbox());
    const { both } = await start(pair({ flags: ["--refresh-budget", "off"], options: { refreshBudget: "off" }, sandboxes: [sandbox, sandbox] }));
    const bot = (await get(both[0], "/chatbots")).json.data[1];
    for (const server of both) await get(server, `/chatbots/${bot.id}/responses`);
    const before = await calls(sandbox);
    for (const server of both) await deliver(server, delivery("response.created", bot.id, "65a1b2c3d4e5f6a7b8c9d0e4"));
    const reread = [];
    for (const server of both) reread.push((await get(server, `/chatbots/${bot.id}/responses`)).headers.get("x-cache"));
    assert.deepEqual(reread, ["miss", "miss"]);
    assert.equal((await calls(sandbox)) - before, 2, "one read per server");
  });

  test("with patching off (cacheEvents \"drop\", --cache-events drop), a delivery makes both read again", async () => {
    const sandbox = await start(startSandbox());
    const off = { flags: ["--cache-events", "drop", "--refresh-budget", "off"], options: { cacheEvents: "drop", refreshBudget: "off" } };
    const { both } = await start(pair({ ...off, sandboxes: [sandbox, sandbox] }));
    const bot = (await get(both[0], "/chatbots")).json.data[1];
    await get(both[1], "/chatbots");
    const before = await calls(sandbox);
    for (const server of both) assert.equal((await deliver(server, delivery("response.created", bot.id, "65a1b2c3d4e5f6a7b8c9d0e3"))).status, 200);
    const reread = [];
    for (const server of both) {
      const list = await get(server, "/chatbots");
      reread.push([list.headers.get("x-cache"), list.json.data[1].responseCount]);
    }
    assert.deepEqual(reread, [["miss", bot.responseCount], ["miss", bot.responseCount]], "read again, as the upstream has it");
    assert.equal((await calls(sandbox)) - before, 2);
  });

  // Read before any getUsage: once the month is known, revalidations are
  // stretched to keep the plan's limit for the month (quota_tests.rs).
  test("a stale answer is served at once and refreshed by one background call, by both", async () => {
    const sandbox = await start(startSandbox());
    // The handler hands the refresh to its `waitUntil` option (a runtime's hook, as Vercel's).
    const handedOff = [];
    // Without the refresh budget: it would learn the plan first, and space the refreshes by hours.
    const options = { cacheTtlMs: 1_000, refreshBudget: "off", waitUntil: (promise) => handedOff.push(promise) };
    const { both } = await start(pair({ flags: ["--cache-ttl", "1s", "--refresh-budget", "off"], options, sandboxes: [sandbox, sandbox] }));
    for (const server of both) assert.equal((await get(server, "/webhooks")).headers.get("x-cache"), "miss");
    await sleep(1_100);
    // Each refresh takes a while, so every hit of the burst finds it in flight.
    await sandbox.admin.fault({ kind: "delay", delayMs: 300, count: 2 });
    const before = await calls(sandbox);
    const stale = [];
    for (const server of both) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => get(server, "/webhooks")));
      stale.push(answers.map((a) => `${a.status} ${a.headers.get("x-cache")} age ${a.headers.get("age")}`));
    }
    assert.deepEqual(stale[0], Array(10).fill("200 stale age 1"), "answered at once from what is held");
    assert.deepEqual(stale[1], stale[0]);
    assert.equal(handedOff.length, 1, "one refresh, handed to waitUntil");
    await Promise.all(handedOff);
    // Each server's refresh lands in the background; then its reads are hits again.
    const refreshed = [];
    for (const server of both) {
      let answer = await get(server, "/webhooks");
      for (const until = Date.now() + 5_000; answer.headers.get("x-cache") !== "hit" && Date.now() < until; ) {
        await sleep(50);
        answer = await get(server, "/webhooks");
      }
      refreshed.push(`${answer.headers.get("x-cache")} age ${answer.headers.get("age")}`);
    }
    assert.equal((await calls(sandbox)) - before, 2, "one refresh per server for ten stale hits and the reads after");
    assert.deepEqual(refreshed, ["hit age 0", "hit age 0"]);
  });

  test("quota headers agree: the month learned from getUsage plus each server's own calls, on every answer", async () => {
    const sandbox = await start(startSandbox());
    await sandbox.admin.setUsage(STARTER_KEY, 1_000);
    // No refresh budget: it would learn the month before the first answer.
    const { bff, handler, both } = await start(pair({ flags: ["--refresh-budget", "off"], options: { refreshBudget: "off" }, sandboxes: [sandbox, sandbox] }));
    const unknown = await get(handler, "/chatbots");
    assert.equal(quota(unknown, "month-used"), null, "not known before a getUsage");
    assert.equal(quota(unknown, "minute-limit"), "1000");
    const [a, b] = [await get(bff, "/usage"), await get(handler, "/usage")];
    const [u1, u2] = [a.json.data.used, b.json.data.used];
    assert.equal(u2, u1 + 1, "the sandbox counted the BFF's getUsage in between");
    const seen = [];
    for (const [server, learned] of [[bff, u1], [handler, u2]]) {
      const usage = server === bff ? a : b;
      const rows = [
        [usage, learned],
        [await get(server, "/webhooks"), learned + 1],
        [await get(server, "/chatbots/000000000000000000000000"), learned + 2],
        [await get(server, "/chatbots/123"), learned + 2],
        [await fetch(`${server.api}/external/v1/webhooks`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }), learned + 2],
        [await fetch(`${server.api}/events`, { method: "POST" }), learned + 2],
      ];
      const statuses = [];
      for (const [answer, used] of rows) {
        statuses.push(answer.status);
        assert.equal(quota(answer, "month-used"), String(used), `${answer.status}: the month's use`);
        assert.equal(quota(answer, "month-remaining"), String(10_000 - used));
        assert.equal(quota(answer, "month-limit"), "10000");
        assert.match(quota(answer, "month-reset"), /^\d{4}-\d{2}-01T00:00:00\.000Z$/);
        assert.equal(quota(answer, "minute-limit"), "1000");
      }
      seen.push({ statuses, reset: quota(rows[0][0], "month-reset") });
    }
    assert.deepEqual(seen[0].statuses, [200, 200, 404, 400, 403, 405]);
    assert.deepEqual(seen[1], seen[0], "the same statuses and the same month's end");
  });

  test("a monthly budget stops both at the same call, with the same 429", async () => {
    const sandboxes = [await start(startSandbox()), await start(startSandbox())];
    for (const sandbox of sandboxes) await sandbox.admin.setUsage(STARTER_KEY, 100);
    const { both } = await start(pair({ flags: ["--monthly-budget", "105"], options: { monthlyBudget: 105 }, sandboxes }));
    const runs = [];
    for (const [i, server] of both.entries()) {
      const before = await calls(sandboxes[i]);
      const answers = [];
      for (let page = 1; page <= 8; page++) answers.push(await get(server, `/chatbots?page=${page}&limit=5`));
      const refused = answers[4];
      runs.push({
        statuses: answers.map((a) => a.status),
        spent: (await calls(sandboxes[i])) - before,
        error: refused.json.error,
        message: refused.json.message.replace(/in \d+ s$/, "in N s"),
        retryAfter: Number(refused.headers.get("retry-after")),
        used: quota(refused, "month-used"),
        held: (await get(server, "/chatbots?page=1&limit=5")).status,
      });
    }
    assert.deepEqual(runs[0].statuses, [200, 200, 200, 200, 429, 429, 429, 429], "a getUsage to learn the month, then pages until 105");
    assert.equal(runs[0].spent, 5);
    assert.match(runs[0].message, /105 calls/);
    assert.ok(Math.abs(runs[1].retryAfter - runs[0].retryAfter) <= 2, `Retry-After ${runs[0].retryAfter} and ${runs[1].retryAfter}`);
    for (const run of runs) delete run.retryAfter;
    assert.deepEqual(runs[1], runs[0]);
    assert.equal(runs[0].held, 200, "what is held is still served");
  });

  test("a spent month: both answer the same 429 with no upstream call, and serve what they hold, marked stale", async () => {
    const sandboxes = [await start(startSandbox()), await start(startSandbox())];
    const { both } = await start(pair({ flags: ["--cache-ttl", "1s"], options: { cacheTtlMs: 1_000 }, sandboxes }));
    const runs = [];
    for (const [i, server] of both.entries()) {
      await get(server, "/usage");
      await sandboxes[i].admin.setUsage(STARTER_KEY, 10_000);
      const upstream = await get(server, "/chatbots");
      const before = await calls(sandboxes[i]);
      const own = await get(server, "/webhooks");
      await sleep(1_100);
      // Past its freshness: served as it is, since no call may be made.
      const held = await get(server, "/usage");
      runs.push({
        upstream: [upstream.status, upstream.json.error],
        own: [own.status, own.json.error, own.json.message.replace(/in \d+ s$/, "in N s"), quota(own, "month-remaining")],
        retryAfter: Number(own.headers.get("retry-after")),
        held: [held.status, held.headers.get("x-cache"), quota(held, "month-remaining")],
        spent: (await calls(sandboxes[i])) - before,
      });
    }
    assert.deepEqual(runs[0].upstream, [429, "Monthly API limit reached"], "the upstream's own refusal first");
    assert.deepEqual(runs[0].own.slice(0, 2), [429, "Monthly API limit reached"]);
    assert.equal(runs[0].own[3], "0");
    assert.deepEqual(runs[0].held, [200, "stale", "0"]);
    assert.equal(runs[0].spent, 0, "no call the upstream would refuse");
    assert.ok(Math.abs(runs[1].retryAfter - runs[0].retryAfter) <= 2, `Retry-After ${runs[0].retryAfter} and ${runs[1].retryAfter}`);
    for (const run of runs) delete run.retryAfter;
    assert.deepEqual(runs[1], runs[0]);
  });
});
