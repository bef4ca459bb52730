// The server half's upstream timeout (`upstreamTimeoutMs`) covers the whole
// call, as conferbot-bff's `--upstream-timeout` does: an upstream that never
// answers, and one that sends its head and then stalls in the body, are
// both answered 504 within the timeout, and a call that comes back in time
// is not cut off later by a timer left behind (forward.js clears it).
// Calls go without an abort signal while none is overdue and fewer than
// BARE_LIMIT wait for their heads (a signal costs Node's fetch a tenth of a
// call): a body that stalls still has its connection cut at the timeout, and
// once a call without one is overdue, the next calls carry one (their
// connections are cut at the timeout) until its head comes.
// The upstream is a real HTTP server on 127.0.0.1 that misbehaves on purpose.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";

import { pkgDir } from "./servers.js";

const { createConferbotHandler } = await import(pathToFileURL(join(pkgDir, "server", "node.js")).href);
const { BARE_LIMIT } = await import(pathToFileURL(join(pkgDir, "server", "forward.js")).href);
const TIMEOUT_MS = 300;
const PAGE = JSON.stringify({ data: [], pagination: { page: 1, limit: 20, total: 0, totalPages: 0 } });

describe("the handler's upstream timeout", () => {
  let upstream;
  let base;
  const held = new Set();

  /** The upstream's side of each request, by arrival: `{url, res, closed}` (`closed` resolves when its connection goes). */
  const arrived = [];

  before(async () => {
    upstream = createServer((req, res) => {
      held.add(res);
      let closed;
      arrived.push({ url: req.url, res, closed: new Promise((resolve) => (closed = resolve)) });
      res.on("close", () => {
        held.delete(res);
        closed();
      });
      if (req.url.includes("silent")) return; // never answers
      if (req.url.includes("stall")) {
        // The head and half a body, then nothing.
        res.writeHead(200, { "content-type": "application/json", "content-length": String(PAGE.length) });
        res.write(PAGE.slice(0, 10));
        return;
      }
      // In time: answers after a third of the timeout.
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(PAGE);
      }, TIMEOUT_MS / 3);
    });
    await new Promise((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${upstream.address().port}`;
  });

  after(async () => {
    for (const res of held) res.destroy();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  /** One GET through `h` (by default a new handler whose upstream is `base + prefix`): `{status, body, ms}`. */
  async function get(prefix, h = handler(base + prefix), page = 1) {
    const started = performance.now();
    const res = await h(new Request(`http://localhost/api/conferbot/external/v1/chatbots?page=${page}`, { headers: { host: "localhost" } }));
    const body = await res.json();
    return { status: res.status, body, ms: performance.now() - started };
  }

  // `refreshBudget: "off"`: no getUsage before the first read, so each
  // request makes exactly one upstream call.
  function handler(upstreamUrl, transport) {
    return createConferbotHandler({
      apiKey: "timeout-test-key",
      upstream: upstreamUrl,
      upstreamTimeoutMs: TIMEOUT_MS,
      cacheTtlMs: 0,
      refreshBudget: "off",
      rate: "1000000/1s",
      fetch: transport,
    });
  }

  /** Resolves `true` when `promise` settles within `ms`, else `false`. */
  const within = (promise, ms) => Promise.race([promise.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), ms))]);

  test("an upstream that never answers: 504 once the timeout has passed", async () => {
    const { status, body, ms } = await get("/silent");
    assert.equal(status, 504);
    assert.equal(typeof body.error, "string");
    assert.ok(ms >= TIMEOUT_MS - 20, `answered after ${ms} ms, before the ${TIMEOUT_MS} ms timeout`);
    assert.ok(ms < TIMEOUT_MS * 10, `answered after ${ms} ms`);
  });

  test("an upstream that stalls in the body: 504, the timeout covers the body too, and its connection is cut", async () => {
    const from = arrived.length;
    const signals = [];
    const h = handler(`${base}/stall`, (url, init) => {
      signals.push(init.signal !== undefined);
      return fetch(url, init);
    });
    const { status, ms } = await get("/stall", h);
    assert.equal(status, 504);
    assert.ok(ms >= TIMEOUT_MS - 20 && ms < TIMEOUT_MS * 10, `answered after ${ms} ms`);
    assert.deepEqual(signals, [false], "a call that expects its head in time carries no signal");
    assert.equal(arrived.length, from + 1);
    assert.ok(await within(arrived[from].closed, 1_000), "the stalled body's connection was closed by the handler");
  });

  test("once a call without a signal is overdue, the next carry one, until its head comes", async () => {
    const signals = [];
    // Pages 1 and 2 go to the silent upstream, page 3 to the one that answers.
    const h = handler(`${base}/silent`, (url, init) => {
      signals.push(init.signal !== undefined);
      return fetch(url.includes("page=3") ? url.replace("/silent/", "/ok/") : url, init);
    });
    const from = arrived.length;
    const first = await get("/silent", h, 1);
    assert.equal(first.status, 504);
    const second = await get("/silent", h, 2);
    assert.equal(second.status, 504);
    assert.deepEqual(signals, [false, true]);
    assert.equal(arrived.length, from + 2);
    assert.ok(await within(arrived[from + 1].closed, 1_000), "the call with a signal had its connection cut at its timeout");
    assert.equal(await within(arrived[from].closed, 50), false, "the first call's connection waits for its head");
    // The upstream answers the first call at last: the handler lets it go,
    // and calls go without a signal again.
    arrived[from].res.writeHead(200, { "content-type": "application/json" });
    arrived[from].res.write("{");
    assert.ok(await within(arrived[from].closed, 1_000), "the late answer's connection was let go");
    const third = await get("", h, 3);
    assert.equal(third.status, 200);
    assert.deepEqual(signals, [false, true, false]);
  });

  test(`at most ${BARE_LIMIT} calls wait for their heads without a signal`, async () => {
    const signals = [];
    const heads = [];
    const h = handler("http://upstream.invalid/api/v1", (url, init) => {
      signals.push(init.signal !== undefined);
      return new Promise((resolve, reject) => {
        heads.push(resolve);
        init.signal?.addEventListener("abort", () => reject(init.signal.reason));
      });
    });
    const answers = await Promise.all(Array.from({ length: BARE_LIMIT + 1 }, (_, i) => get("", h, i + 1)));
    assert.ok(answers.every((a) => a.status === 504));
    assert.deepEqual(signals, [...Array(BARE_LIMIT).fill(false), true]);
    // All of those without a signal are overdue: the next call carries one.
    assert.equal((await get("", h, BARE_LIMIT + 2)).status, 504);
    assert.equal(signals.at(-1), true);
    const cancelled = [];
    for (const head of heads) {
      head(new Response(new ReadableStream({ cancel: () => cancelled.push(true) })));
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(cancelled.length, BARE_LIMIT, "every late answer's body was cancelled");
    heads.length = 0;
    const later = get("", h, BARE_LIMIT + 3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    heads[0](new Response(PAGE, { headers: { "content-type": "application/json" } }));
    assert.equal((await later).status, 200);
    assert.equal(signals.at(-1), false, "with its heads come, calls go without a signal again");
  });

  test("an answer in time is passed on whole", async () => {
    const { status, body } = await get("/ok");
    assert.equal(status, 200);
    assert.deepEqual(body.data, []);
  });
});
