// The npm server half answers what conferbot-bff answers. Each request goes,
// as raw bytes, to both: the real `conferbot-bff` binary and the package's
// handler under Node (`http.createServer(toNodeListener(h))`), both in front
// of one sandbox; status, body and every header that says something must be
// the same. The hostile-path cases are the BFF's own (tests/cases/
// hostile-requests.json, read by its Rust test too), none may reach the
// upstream; then CSRF and CORS, and header hygiene both ways against an
// upstream that records what it is sent.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";

import { meaningful, rawRequest } from "./raw-http.js";
import { pkgDir, root, STARTER_KEY, startBffFor, startSandbox } from "./servers.js";

const { createConferbotHandler, toNodeListener } = await import(pathToFileURL(join(pkgDir, "server", "node.js")).href);
const CASES = JSON.parse(readFileSync(join(root, "tests/cases/hostile-requests.json"), "utf8"));
const ALLOWED = "https://dashboard.example.com";
const API = "/api/conferbot/external/v1";
const FAST = "1000/1s";

/** The handler on `http.createServer(toNodeListener(h))`, on a free port: `{ origin, stop }`. */
async function serveHandler(options) {
  const server = createServer(toNodeListener(createConferbotHandler(options)));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

/** The same raw request to both servers, the BFF first: `[bff, handler]`. */
async function both(pair, method, target, headers = {}, body = "") {
  const bff = await rawRequest(pair.bff.origin, method, target, headers, body);
  return [bff, await rawRequest(pair.handler.origin, method, target, headers, body)];
}

/**
 * The month's use and what is left of it, as each server counts it: two
 * servers on one sandbox key keep two books (each learns from getUsage and
 * counts its own calls since), so these two values are compared by the
 * quota tests below, by the rule that makes them; here, that they are there
 * together and add up to the limit.
 */
const OWN_COUNT = new Set(["x-quota-month-used", "x-quota-month-remaining"]);

function comparable(headers, what) {
  const value = (name) => headers.find(([n]) => n === name)?.[1];
  if (value("x-quota-month-used") !== undefined) {
    assert.equal(Number(value("x-quota-month-used")) + Number(value("x-quota-month-remaining")), Number(value("x-quota-month-limit")), `${what}: the month's use and what is left add up to its limit`);
  }
  return meaningful(headers.map(([name, v]) => [name, OWN_COUNT.has(name) ? "(each server's own count)" : v]));
}

/** Asserts the two answers say the same; `exactBody` false compares the body's JSON keys only. */
function assertSame([bff, handler], what, { exactBody = true } = {}) {
  assert.equal(handler.status, bff.status, `${what}: status`);
  assert.deepEqual(comparable(handler.headers, what), comparable(bff.headers, what), `${what}: headers`);
  if (exactBody) assert.equal(handler.body, bff.body, `${what}: body`);
  else assert.deepEqual(Object.keys(JSON.parse(handler.body)).sort(), Object.keys(JSON.parse(bff.body)).sort(), `${what}: body keys`);
}

describe("the handler answers what conferbot-bff answers", () => {
  let sandbox;
  const plainPair = {};
  const corsPair = {};
  before(async () => {
    sandbox = await startSandbox(["--rate", FAST]);
    const options = { apiKey: STARTER_KEY, upstream: sandbox.api, rate: FAST };
    plainPair.bff = await startBffFor(sandbox.api, STARTER_KEY, ["--rate", FAST]);
    plainPair.handler = await serveHandler(options);
    corsPair.bff = await startBffFor(sandbox.api, STARTER_KEY, ["--rate", FAST, "--allow-origin", ALLOWED]);
    corsPair.handler = await serveHandler({ ...options, allowOrigins: [ALLOWED] });
  });
  after(async () => {
    for (const pair of [plainPair, corsPair]) {
      await pair.handler?.stop();
      pair.bff?.stop();
    }
    sandbox?.stop();
  });

  test(`every hostile request of the BFF's suite (${CASES.rows.length}), raw: the same answer, 0 upstream calls`, async (t) => {
    const before = (await sandbox.admin.stats()).apiCalls;
    const failures = [];
    const parserRefused = [];
    for (const { method, target, status } of CASES.rows) {
      const answers = await both(plainPair, method, target);
      const what = `${method} ${target.slice(0, 120)}`;
      try {
        assert.equal(answers[0].status, status, `${what}: the BFF's status`);
        // A request line the HTTP server itself refuses (hyper's or Node's
        // own 400, not JSON) never reaches either handler: the status must match.
        if (answers.every((a) => a.body.startsWith("{"))) assertSame(answers, what);
        else {
          assert.equal(answers[1].status, answers[0].status, `${what}: status of a request line an HTTP parser refuses`);
          parserRefused.push(JSON.stringify(target.slice(-24)));
        }
      } catch (error) {
        failures.push(error.message);
      }
    }
    assert.deepEqual(failures, []);
    t.diagnostic(`refused by an HTTP parser before any handler (status compared): ${parserRefused.join(", ")}`);
    assert.ok(parserRefused.length <= 3, "only the rows with bytes no client library sends");
    assert.equal((await sandbox.admin.stats()).apiCalls - before, 0, "a hostile request reached the upstream");
    const { method, target, status } = CASES.wellFormed;
    const answers = await both(plainPair, method, target);
    assert.equal(answers[0].status, status);
    assertSame(answers, "the well-formed request", { exactBody: false });
    assert.equal((await sandbox.admin.stats()).apiCalls - before, 2, "the well-formed one reached it, once per server");
  });

  test("reads: x-cache miss, then hit; bad queries refused alike", async () => {
    const target = `${API}/chatbots?limit=3&utm=x&page=2`;
    assertSame(await both(plainPair, "GET", target), "first read");
    const again = await both(plainPair, "GET", `${API}/chatbots?page=2&limit=3`);
    assertSame(again, "the same read, canonical");
    assert.equal(again[1].headers.find(([n]) => n === "x-cache")?.[1], "hit");
    for (const bad of ["?limit=101", "?page=0", "?page=1&page=2", "?limit=%32"]) {
      assertSame(await both(plainPair, "GET", `${API}/chatbots${bad}`), `chatbots${bad}`);
    }
  });

  const webhook = JSON.stringify({ url: "https://example.com/in", events: ["response.created"] });
  const json = { "content-type": "application/json" };

  test("CSRF: writes need the header and an allowed origin; refusals never reach the upstream", async () => {
    const before = (await sandbox.admin.stats()).apiCalls;
    for (const [what, headers] of [
      ["no header", json],
      ["a foreign origin", { ...json, "x-conferbot-csrf": "1", origin: "https://evil.example" }],
      ["a look-alike origin", { ...json, "x-conferbot-csrf": "1", origin: `${corsPair.bff.origin}.evil.example` }],
      ["a wrong marker", { ...json, "x-conferbot-csrf": "true" }],
    ]) {
      const answers = await both(corsPair, "POST", `${API}/webhooks`, headers, webhook);
      assert.equal(answers[0].status, 403, what);
      assertSame(answers, what);
    }
    assertSame(await both(corsPair, "DELETE", `${API}/webhooks/64f8a2b3c1d4e5f6a7b8c9d0`), "a DELETE without the header");
    assert.equal((await sandbox.admin.stats()).apiCalls - before, 0, "a refused write reached the upstream");

    for (const [what, origin] of [["the allowed origin", ALLOWED], ["no Origin", null], ["its own origin", "self"]]) {
      const answers = [];
      for (const server of [corsPair.bff, corsPair.handler]) {
        const headers = { ...json, "x-conferbot-csrf": "1", ...(origin === "self" ? { origin: server.origin } : origin ? { origin } : {}) };
        const created = await rawRequest(server.origin, "POST", `${API}/webhooks`, headers, webhook);
        answers.push(created);
        const id = JSON.parse(created.body).data?.id;
        if (id) await rawRequest(server.origin, "DELETE", `${API}/webhooks/${id}`, { "x-conferbot-csrf": "1" });
      }
      assert.equal(answers[0].status, 201, `${what}: ${answers[0].body}`);
      assertSame(answers, what, { exactBody: false });
    }
  });

  test("CORS preflights and answers: the configured origin only", async () => {
    for (const origin of [ALLOWED, "https://evil.example"]) {
      const headers = { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-conferbot-csrf" };
      assertSame(await both(corsPair, "OPTIONS", `${API}/webhooks`, headers), `preflight from ${origin}`);
      assertSame(await both(corsPair, "OPTIONS", "/api/conferbot/events", headers), `events preflight from ${origin}`);
    }
    assertSame(await both(corsPair, "GET", `${API}/usage`, { origin: ALLOWED }), "a read from the allowed origin", { exactBody: false });
    assertSame(await both(plainPair, "OPTIONS", `${API}/webhooks`, { origin: ALLOWED }), "OPTIONS without CORS configured");
  });

  test("webhook receiver and events without a secret, and paths outside the mount", async () => {
    assertSame(await both(plainPair, "POST", "/api/conferbot/webhooks/incoming", json, "{}"), "a delivery without a secret");
    assertSame(await both(plainPair, "GET", "/api/conferbot/webhooks/incoming"), "GET on the receiver");
    assertSame(await both(plainPair, "POST", "/api/conferbot/events"), "POST on the events");
    assertSame(await both(plainPair, "GET", "/elsewhere"), "a path outside the mount");
    const big = JSON.stringify({ url: `https://example.com/${"a".repeat(70_000)}`, events: ["response.created"] });
    assertSame(await both(plainPair, "POST", `${API}/webhooks`, { ...json, "x-conferbot-csrf": "1" }, big), "a body over 64 KiB");
  });
});

/** An upstream that records every request and answers with headers a browser must never get. */
async function capturingUpstream() {
  const seen = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    seen.push({ method: req.method, target: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
    res.writeHead(req.method === "POST" ? 201 : 200, {
      "set-cookie": "upstream_session=abc; HttpOnly",
      server: "capture/1.0",
      "x-powered-by": "capture",
      "access-control-allow-origin": "*",
      "content-type": "application/json",
    });
    res.end('{"data":[]}');
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { api: `http://127.0.0.1:${server.address().port}/api/v1`, seen, stop: () => new Promise((r) => server.close(r)) };
}

describe("header hygiene both ways, as conferbot-bff's", () => {
  const KEY = "sk-live-CANARY-hygiene-5e1f";
  const HOSTILE = {
    "x-api-key": "browser-key",
    cookie: "session=browser-cookie",
    authorization: "Bearer browser-token",
    "proxy-authorization": "Basic browser-proxy",
    "x-forwarded-for": "10.0.0.1",
    "x-forwarded-host": "browser-evil.example",
    forwarded: "for=browser",
    "x-custom": "browser-custom",
    "accept-encoding": "browser-encoding",
  };
  let upstream;
  const pair = {};
  before(async () => {
    upstream = await capturingUpstream();
    // No refresh budget: its getUsage (learning the plan) would come first and interleave the calls compared.
    pair.bff = await startBffFor(upstream.api, KEY, ["--refresh-budget", "off"]);
    pair.handler = await serveHandler({ apiKey: KEY, upstream: upstream.api, refreshBudget: "off" });
  });
  after(async () => {
    await pair.handler?.stop();
    pair.bff?.stop();
    await upstream?.stop();
  });

  test("browser credentials and headers never reach the upstream; the upstream's never reach the browser", async () => {
    const requests = [
      ["GET", `${API}/chatbots?limit=5&page=2&x-api-key=browser-q`, HOSTILE, ""],
      ["POST", `${API}/webhooks`, { ...HOSTILE, "x-conferbot-csrf": "1", "content-type": "application/json; charset=utf-8" },
        '{"url":"https://example.com/in","events":["response.created"],"secret":"browser-secret","active":false}'],
      ["DELETE", `${API}/webhooks/64f8a2b3c1d4e5f6a7b8c9d0`, { ...HOSTILE, "x-conferbot-csrf": "1" }, "browser-body"],
    ];
    for (const [method, target, headers, body] of requests) {
      const answers = await both(pair, method, target, headers, body);
      assertSame(answers, `${method} ${target}`);
      for (const answer of answers) {
        for (const name of ["set-cookie", "server", "x-powered-by", "access-control-allow-origin"]) {
          assert.ok(!answer.headers.some(([n]) => n === name), `${name} reached the browser`);
        }
      }
    }
    assert.equal(upstream.seen.length, 6, "three calls from each server");
    const [fromBff, fromHandler] = [upstream.seen.filter((_, i) => i % 2 === 0), upstream.seen.filter((_, i) => i % 2 === 1)];
    // What the BFF sends, and what fetch (undici) adds by itself to every request it makes; nothing of the browser's.
    const ours = ["host", "accept", "x-api-key", "content-type", "content-length"];
    const fetchOwn = ["connection", "user-agent", "accept-language", "sec-fetch-mode", "accept-encoding"];
    for (const [who, calls, allowed] of [["bff", fromBff, ours], ["handler", fromHandler, [...ours, ...fetchOwn]]]) {
      for (const { method, target, headers, body } of calls) {
        for (const name of Object.keys(headers)) assert.ok(allowed.includes(name), `${who} ${method} ${target}: ${name} was forwarded`);
        assert.equal(headers["x-api-key"], KEY, `${who} ${method}: exactly our key`);
        const all = `${target} ${JSON.stringify(headers)} ${body}`;
        assert.doesNotMatch(all, /browser/, `${who} ${method}: browser data forwarded: ${all}`);
      }
      assert.equal(calls[0].target, "/api/v1/external/v1/chatbots?page=2&limit=5");
      assert.equal(calls[1].body, '{"url":"https://example.com/in","events":["response.created"]}');
      assert.equal(calls[1].headers["content-type"], "application/json");
      assert.equal(calls[2].method, "DELETE");
      assert.equal(calls[2].body, "", `${who}: a DELETE body was forwarded`);
    }
  });
});
