// Every error kind, produced for real: bad input (nothing sent), the
// sandbox's statuses and fault injection, closed ports, timeouts and aborts;
// retries after 429 (honouring Retry-After) and after a 5xx.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";

import { FREE_KEY, MODES, STARTER_KEY, pkg, rejection, startSandbox } from "./servers.js";

const { ConferbotClient, ConferbotError } = pkg;
const BOT = "64f8a2b3c1d4e5f6a7b8c9d0";

// Each call with its own page size: a URL the BFF has not cached, so that it
// reaches the sandbox and its injected fault.
let uncached = 30;
const fresh = () => ({ page: 1, limit: (uncached += 1) });

/** A port nothing listens on: bound, then closed. */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

for (const [mode, start] of Object.entries(MODES)) {
  describe(`${mode} mode errors`, () => {
    let env;
    let client;
    let once;
    before(async () => {
      env = await start();
      client = new ConferbotClient(env.options);
      once = new ConferbotClient({ ...env.options, maxRetries: 0 });
    });
    after(() => env?.stop());

    test("invalid_request: bad input is refused and nothing is sent", async () => {
      const { apiCalls } = await env.admin.stats();
      const cases = [
        client.listChatbots({ page: 0 }),
        client.listChatbots({ limit: 101 }),
        client.listChatbots({ limit: 2.5 }),
        client.getChatbot("../usage"),
        client.listResponses("nope"),
        client.deleteWebhook(""),
        client.createWebhook({ url: "https://x.com", events: ["bot.deleted"] }),
        client.createWebhook({ url: "javascript:alert(1)", events: ["response.created"] }),
        client.getUsage({ timeoutMs: -1 }),
      ];
      for (const call of cases) {
        const error = await rejection(call);
        assert.equal(error.kind, "invalid_request", error.message);
        assert.equal(error.status, null);
      }
      assert.equal((await env.admin.stats()).apiCalls, apiCalls, "no call reached the API");
    });

    test("not_found", async () => {
      const error = await rejection(client.getChatbot(BOT));
      assert.equal(error.kind, "not_found");
      assert.equal(error.status, 404);
      assert.ok(error instanceof Error);
      assert.equal(error.name, "ConferbotError");
    });

    test("forbidden: the Starter plan's 5 webhooks", async () => {
      const made = [];
      try {
        const existing = (await client.listWebhooks()).length;
        for (let i = existing; i < 5; i += 1) {
          made.push(await client.createWebhook({ url: `https://hooks.example.com/${i}`, events: ["response.created"] }));
        }
        const error = await rejection(client.createWebhook({ url: "https://hooks.example.com/6", events: ["response.created"] }));
        assert.equal(error.kind, "forbidden");
        assert.equal(error.status, 403);
      } finally {
        for (const hook of made) await client.deleteWebhook(hook.id);
      }
    });

    test("server: a 500 is retried for a GET, and reported once retries are spent", async () => {
      await env.admin.fault({ kind: "status500", count: 1 });
      const page = await client.listChatbots(fresh());
      assert.equal(page.total, 137);
      await env.admin.fault({ kind: "status500", count: 5 });
      const error = await rejection(once.listChatbots(fresh()));
      assert.equal(error.kind, "server");
      assert.ok(error.status >= 500, String(error.status));
      await env.admin.clearFaults();
    });

    test("timeout: an answer slower than timeoutMs", async () => {
      await env.admin.fault({ kind: "delay", count: 1, delayMs: 1500 });
      const error = await rejection(once.listChatbots(fresh(), { timeoutMs: 200 }));
      assert.equal(error.kind, "timeout");
      assert.equal(error.status, null);
      await env.admin.clearFaults();
    });

    test("aborted: the caller's signal, during the request", async () => {
      await env.admin.fault({ kind: "delay", count: 1, delayMs: 3000 });
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(), 100);
      const error = await rejection(client.listChatbots(fresh(), { signal: controller.signal }));
      assert.equal(error.kind, "aborted");
      assert.ok(Date.now() - started < 2500, "ended before the slow answer came");
      const before = await rejection(client.getUsage({ signal: AbortSignal.abort() }));
      assert.equal(before.kind, "aborted");
      await env.admin.clearFaults();
    });

    test("network: a port nobody listens on", async () => {
      const port = await closedPort();
      const dead = new ConferbotClient({ ...env.options, baseUrl: `http://127.0.0.1:${port}/api/conferbot`, maxRetries: 0 });
      const error = await rejection(dead.getUsage());
      assert.equal(error.kind, "network");
      assert.equal(error.status, null);
    });
  });
}

describe("direct mode, upstream-only errors", () => {
  let sandbox;
  let limited;
  before(async () => {
    [sandbox, limited] = await Promise.all([startSandbox(), startSandbox(["--rate", "2/1s"])]);
  });
  after(() => {
    sandbox?.stop();
    limited?.stop();
  });
  const direct = (options = {}) => new ConferbotClient({ apiKey: STARTER_KEY, baseUrl: sandbox.api, maxRetries: 0, ...options });

  test("unauthorized: a wrong key", async () => {
    const error = await rejection(direct({ apiKey: "sk_wrong" }).getUsage());
    assert.equal(error.kind, "unauthorized");
    assert.equal(error.status, 401);
    assert.equal(error.message, "Invalid or missing API key");
  });

  test("forbidden: the Free plan has no API access", async () => {
    const error = await rejection(direct({ apiKey: FREE_KEY }).listChatbots());
    assert.equal(error.kind, "forbidden");
    assert.equal(error.status, 403);
  });

  test("bad_request: a 400 from the server", async () => {
    await sandbox.admin.fault({ kind: "status500", count: 1, status: 400 });
    const error = await rejection(direct().getUsage());
    assert.equal(error.kind, "bad_request");
    assert.equal(error.status, 400);
  });

  test("network: the connection dropped (drop fault)", async () => {
    await sandbox.admin.fault({ kind: "drop", count: 1 });
    const error = await rejection(direct().getUsage());
    assert.equal(error.kind, "network");
  });

  test("decode: a 200 that is not JSON, and one cut in half", async () => {
    for (const kind of ["nonJson", "truncated"]) {
      await sandbox.admin.fault({ kind, count: 1 });
      const error = await rejection(direct().listChatbots());
      assert.equal(error.kind, "decode", `${kind}: ${error.message}`);
      assert.equal(error.status, null);
    }
  });

  test("rate_limited: 429 with Retry-After when retries are off", async () => {
    const client = new ConferbotClient({ apiKey: STARTER_KEY, baseUrl: limited.api, maxRetries: 0 });
    let error;
    for (let i = 0; i < 4 && !error; i += 1) error = await client.getUsage().then(() => undefined, (e) => e);
    assert.ok(error instanceof ConferbotError);
    assert.equal(error.kind, "rate_limited");
    assert.equal(error.status, 429);
    assert.equal(typeof error.retryAfter, "number");
  });

  test("a 429 is retried after Retry-After seconds, then succeeds", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const url = `${limited.api}/external/v1/usage`;
    let retryAfter;
    for (let i = 0; i < 4 && retryAfter === undefined; i += 1) {
      const response = await fetch(url, { headers: { "x-api-key": STARTER_KEY } });
      if (response.status === 429) retryAfter = Number(response.headers.get("retry-after"));
    }
    assert.ok(retryAfter >= 1, `Retry-After ${retryAfter}`);
    const { rateLimited } = await limited.admin.stats();
    const client = new ConferbotClient({ apiKey: STARTER_KEY, baseUrl: limited.api, maxRetries: 2 });
    const started = Date.now();
    const usage = await client.getUsage();
    const waited = Date.now() - started;
    assert.equal(usage.plan, "Starter");
    assert.ok((await limited.admin.stats()).rateLimited > rateLimited, "the first attempt was refused");
    assert.ok(waited >= retryAfter * 1000 - 50, `retried after ${waited} ms, Retry-After was ${retryAfter} s`);
  });
});
