// The npm server half decides who may come in, and how much, as
// conferbot-bff does, because both run the policy's access rules (issue 12):
// the host allowlist against DNS rebinding, the key and the webhook secret
// withheld in any spelling an upstream answer echoes them, webhook targets
// public https:// only (the BFF parses with the `url` crate, the handler
// with JS's own URL: both WHATWG), fairness by client (the peer, behind
// trusted proxies X-Forwarded-For), per-client monthly calls, the
// authorisation step (the BFF's --auth-url forward-auth, the handler's
// `authorize(request)` hook, decided alike), and a delivery's replay in
// another spelling of its signature. Each pair is the real `conferbot-bff`
// binary and the package's handler under Node, each on its own sandbox
// unless said.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, describe, test } from "node:test";

import { meaningful, rawRequest } from "./raw-http.js";
import { pkgDir, STARTER_KEY, startBffFor, startSandbox } from "./servers.js";

const { createConferbotHandler, toNodeListener } = await import(pathToFileURL(join(pkgDir, "server", "node.js")).href);
const API = "/api/conferbot/external/v1";
const FAST = "1000/1s";
const SECRET = "whsec_handler_access_7f3a9c";
const ATTACKER = "198.51.100.66";
const VICTIM = "203.0.113.7";

async function listen(listener) {
  const server = createServer(listener);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, api: `${origin}/api/conferbot`, stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }) };
}

/** A BFF (`flags`) and a handler (`options`) for `key` on `upstreams` ([bff's, handler's]). */
async function pair({ flags = [], options = {}, upstreams, key = STARTER_KEY, env = {} }) {
  const rate = flags.includes("--rate") ? [] : ["--rate", FAST];
  // No refresh budget: its getUsage (learning the plan) would be a call beyond the ones counted.
  const off = ["--refresh-budget", "off"];
  const bff = await startBffFor(upstreams[0], key, [...rate, ...off, ...flags], { CONFERBOT_WEBHOOK_SECRET: SECRET, ...env });
  const handler = await listen(toNodeListener(createConferbotHandler({ apiKey: key, upstream: upstreams[1], rate: FAST, webhookSecret: SECRET, refreshBudget: "off", ...options })));
  return { bff, handler, both: [bff, handler], stop: async () => { bff.stop(); await handler.stop(); } };
}

/** The same raw request to both: `[bff, handler]`, each `{status, headers, body}`. */
async function both(servers, method, target, headers = {}, body = "") {
  const answers = [];
  for (const server of servers) answers.push(await rawRequest(server.origin, method, target, headers, body));
  return answers;
}

function assertSame([bff, handler], what) {
  assert.equal(handler.status, bff.status, `${what}: status (${handler.body} / ${bff.body})`);
  assert.deepEqual(meaningful(handler.headers).filter((h) => !h.startsWith("x-quota-")), meaningful(bff.headers).filter((h) => !h.startsWith("x-quota-")), `${what}: headers`);
  assert.equal(handler.body, bff.body, `${what}: body`);
}

/** `GET {server}{path}` as the client at `ip` (behind the trusted proxy 127.0.0.1). */
async function getAs(server, path, ip) {
  const response = await fetch(`${server.api}/external/v1${path}`, { headers: { "x-forwarded-for": ip } });
  return { status: response.status, json: await response.json() };
}

describe("the handler decides who may come in, and how much, as conferbot-bff does", () => {
  const running = [];
  const start = async (what) => {
    const started = await what;
    running.push(started);
    return started;
  };
  after(async () => {
    for (const thing of running.reverse()) await thing.stop();
  });

  test("the host allowlist: a host not allowed gets the same 403 from both, allowed ones pass", async () => {
    const sandbox = await start(startSandbox());
    const { both: servers } = await start(pair({ flags: ["--allow-host", "app.example.com", "--allow-host", ".example.org"], options: { allowHosts: ["app.example.com", ".example.org"] }, upstreams: [sandbox.api, sandbox.api] }));
    for (const host of ["rebind.attacker.example", "example.com", "app.example.com.evil.example"]) {
      for (const target of [`${API}/usage`, "/api/conferbot/events", "/api/conferbot/webhooks/incoming"]) {
        const answers = await both(servers, "GET", target, { host });
        assert.equal(answers[0].status, 403, `${host} ${target}`);
        assertSame(answers, `Host: ${host} ${target}`);
      }
    }
    for (const host of ["app.example.com", "api.example.org:8443", "localhost", `127.0.0.1:9`]) {
      const answers = await both(servers, "GET", `${API}/webhooks`, { host });
      assert.equal(answers[0].status, 200, host);
      assert.equal(answers[1].status, 200, host);
    }
    const malformed = await both(servers, "GET", `${API}/usage`, { host: "app.example.com:port" });
    assert.equal(malformed[0].status, 400);
    assertSame(malformed, "a malformed Host");
  });

  test("the key and the webhook secret, echoed by the upstream in any spelling, are withheld by both", async () => {
    const KEY = "sk-live-CANARY-access-5e1f9b27";
    const spellings = {
      plain: KEY,
      "JSON escapes": [...KEY].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join(""),
      "one character escaped": KEY.replace("-", "\\u002d"),
      base64: Buffer.from(KEY).toString("base64"),
      hex: Buffer.from(KEY).toString("hex").toUpperCase(),
      "percent-encoded in a URL": `https://echo.example/?k=${encodeURIComponent(KEY).replace(/-/g, "%2D")}`,
      "the webhook secret": SECRET.replace("_", "\\u005f"),
    };
    let spelling = "plain";
    const echo = await start(listen((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(`{"data":[{"id":"64f8a2b3c1d4e5f6a7b8c9d0","name":"${spellings[spelling]}"}],"total":1,"page":1,"totalPages":1}`);
    }));
    const upstream = `${echo.origin}/api/v1`;
    const { both: servers } = await start(pair({ key: KEY, upstreams: [upstream, upstream], flags: ["--cache-ttl", "0"], options: { cacheTtlMs: 0 } }));
    for (spelling of Object.keys(spellings)) {
      const answers = await both(servers, "GET", `${API}/chatbots`);
      assert.equal(answers[0].status, 502, `${spelling}: ${answers[0].body}`);
      assertSame(answers, spelling);
      assert.doesNotMatch(answers[1].body, /CANARY/);
    }
  });

  test("webhook targets: the same 400 for private, loopback and non-https URLs from both, a public one passes", async () => {
    const sandbox = await start(startSandbox());
    const { both: servers } = await start(pair({ upstreams: [sandbox.api, sandbox.api] }));
    const headers = { "content-type": "application/json", "x-conferbot-csrf": "1" };
    const create = (url) => JSON.stringify({ url, events: ["response.created"] });
    for (const url of [
      "http://example.com/in",
      "https://169.254.169.254/latest/meta-data",
      "https://127.1/in",
      "https://2130706433/in",
      "https://0x7f.1/in",
      "https://[::ffff:127.0.0.1]/in",
      "https://[fd00::1]/in",
      "https://10.1.2.3/in",
      "https://printer.local/in",
      "https://intranet/in",
      "https://LOCALHOST./in",
    ]) {
      const answers = await both(servers, "POST", `${API}/webhooks`, headers, create(url));
      assert.equal(answers[0].status, 400, `${url}: ${answers[0].body}`);
      assertSame(answers, url);
    }
    for (const url of ["https://hooks.example.com/in", "https://bücher.example/in"]) {
      const answers = await both(servers, "POST", `${API}/webhooks`, headers, create(url));
      assert.deepEqual(answers.map((a) => a.status), [201, 201], `${url}: ${answers.map((a) => a.body)}`);
      for (const answer of answers) await rawRequest(servers[0].origin, "DELETE", `${API}/webhooks/${JSON.parse(answer.body).data.id}`, { "x-conferbot-csrf": "1" });
    }
  });

  test("fairness by client: a burst from one client behind the trusted proxy leaves another its share, on both", async () => {
    const sandboxes = [await start(startSandbox(["--rate", "10/1600ms"])), await start(startSandbox(["--rate", "10/1600ms"]))];
    const flags = ["--rate", "10/2s", "--queue-wait", "3s", "--trusted-proxy", "127.0.0.1"];
    const options = { rate: "10/2s", queueWaitMs: 3_000, trustedProxies: ["127.0.0.1"] };
    const { both: servers } = await start(pair({ flags, options, upstreams: sandboxes.map((s) => s.api) }));
    for (const [i, server] of servers.entries()) {
      const burst = Promise.all(Array.from({ length: 60 }, (_, n) => getAs(server, `/chatbots?page=${n + 1}&limit=1`, ATTACKER)));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const victim = [];
      for (let page = 1; page <= 4; page++) victim.push((await getAs(server, `/chatbots?page=${page}&limit=2`, VICTIM)).status);
      const attacker = (await burst).map((a) => a.status);
      assert.deepEqual(victim, [200, 200, 200, 200], `${server.api}: the other client was served`);
      assert.ok(attacker.includes(429), `${server.api}: the burst waited its turns and was refused past its budget`);
      assert.equal((await sandboxes[i].admin.stats()).rateLimited, 0, "no upstream 429");
    }
  });

  test("per-client monthly calls: the same 429 from both once a client has made its calls; others go on", async () => {
    const sandboxes = [await start(startSandbox()), await start(startSandbox())];
    const flags = ["--client-monthly-calls", "3", "--trusted-proxy", "127.0.0.1"];
    const options = { clientMonthlyCalls: 3, trustedProxies: ["127.0.0.1"] };
    const { both: servers } = await start(pair({ flags, options, upstreams: sandboxes.map((s) => s.api) }));
    const runs = [];
    for (const server of servers) {
      const spent = [];
      for (let page = 1; page <= 4; page++) spent.push(await getAs(server, `/chatbots?page=${page}&limit=1`, ATTACKER));
      const cached = await getAs(server, "/chatbots?page=1&limit=1", ATTACKER);
      const other = await getAs(server, "/chatbots?page=4&limit=1", VICTIM);
      runs.push({
        statuses: spent.map((a) => a.status),
        refused: [spent[3].json.error, spent[3].json.message.replace(/\d+ s/, "N s")],
        cached: cached.status,
        other: other.status,
      });
    }
    assert.deepEqual(runs[0].statuses, [200, 200, 200, 429]);
    assert.equal(runs[0].cached, 200, "what is held costs no call");
    assert.equal(runs[0].other, 200, "another client is not capped by this one");
    assert.deepEqual(runs[1], runs[0]);
  });

  test("the authorisation step: forward-auth for the BFF, authorize(request) for the handler, decided alike", async () => {
    const sandbox = await start(startSandbox());
    const auth = await start(listen((req, res) => {
      const session = /session=([\w-]+)/.exec(req.headers.cookie ?? "")?.[1];
      if (session === "boom") return res.writeHead(500).end();
      if (session === "slow") return setTimeout(() => res.writeHead(200).end(), 3_000);
      if (!session) return res.writeHead(401).end();
      if (session === "banned") return res.writeHead(403).end();
      res.writeHead(200, { "x-auth-request-user": session }).end();
    }));
    const authUrl = `${auth.origin}/auth`;
    const authorize = async (request) => {
      const answer = await fetch(authUrl, { headers: { cookie: request.headers.cookie ?? "" } });
      if (answer.ok) return { user: answer.headers.get("x-auth-request-user") ?? undefined };
      return { status: answer.status };
    };
    const { both: servers } = await start(pair({ flags: ["--auth-url", authUrl, "--auth-timeout", "1s", "--allow-origin", "https://app.example.com"], options: { authorize, authTimeoutMs: 1_000, allowOrigins: ["https://app.example.com"] }, upstreams: [sandbox.api, sandbox.api] }));
    for (const [cookie, status] of [["session=alice", 200], ["", 401], ["session=banned", 403], ["session=boom", 503], ["session=slow", 503]]) {
      for (const target of [`${API}/webhooks`, "/api/conferbot/events?probe"]) {
        if (target.includes("events") && status === 200) continue;
        const answers = await both(servers, "GET", target, cookie ? { cookie, origin: "https://app.example.com" } : { origin: "https://app.example.com" });
        assert.equal(answers[0].status, status, `${cookie || "no cookie"} ${target}: ${answers[0].body}`);
        assertSame(answers, `${cookie || "no cookie"} ${target}`);
        if (status !== 200) {
          for (const answer of answers) assert.ok(!answer.headers.some(([n]) => n.startsWith("x-quota-")), "a refused request learns nothing of the quota");
        }
      }
    }
    const preflight = await both(servers, "OPTIONS", `${API}/webhooks`, { origin: "https://app.example.com", "access-control-request-method": "POST" });
    assert.equal(preflight[0].status, 200, "preflights carry no credentials and are answered before the step");
    assertSame(preflight, "a preflight");
  });

  test("a delivery replayed in another spelling of its signature is one delivery, on both", async () => {
    const sandbox = await start(startSandbox());
    const { both: servers } = await start(pair({ upstreams: [sandbox.api, sandbox.api] }));
    const timestamp = new Date().toISOString();
    const body = JSON.stringify({ event: "response.created", chatSessionId: "sess_r", responseId: "65a1b2c3d4e5f6a7b8c9d0aa", botId: "64f8a2b3c1d4e5f6a7b8c9d0", visitorId: "visitor_r", timestamp });
    const mac = createHmac("sha256", SECRET).update(body).digest("hex");
    for (const server of servers) {
      const receipts = [];
      for (const signature of [mac, `sha256=${mac}`, mac.toUpperCase()]) {
        const headers = { "content-type": "application/json", "x-webhook-event": "response.created", "x-webhook-timestamp": timestamp, "x-webhook-signature": signature };
        receipts.push((await rawRequest(server.origin, "POST", "/api/conferbot/webhooks/incoming", headers, body)).body);
      }
      assert.equal(typeof JSON.parse(receipts[0]).data.id, "number");
      assert.deepEqual(receipts.slice(1).map((r) => JSON.parse(r)), [{ data: { duplicate: true, received: true } }, { data: { duplicate: true, received: true } }]);
    }
  });
});
