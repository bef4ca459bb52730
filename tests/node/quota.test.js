// Quota as data: what the BFF's `x-quota-*` headers say, read by the packed
// client from Node against the real conferbot-bff and its embedded sandbox,
// and again against the package's own handler in a Node server (its sandbox):
// `page.quota` on pages, `error.quota` on errors, `onQuota` told of every
// answer (the client's, or a call's own instead), the month once the BFF has
// learned it from a `getUsage`, a spent month's refusal, and a request that
// waited in the BFF's queue for the rate window. Straight to the API (no
// BFF), there is nothing to read: `null`.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { STARTER_KEY, pkg, rejection, startBff, startHandlerOnSandbox, startSandbox } from "./servers.js";

const { ConferbotClient } = pkg;

for (const [name, startServer] of [["conferbot-bff", startBff], ["the package's handler", startHandlerOnSandbox]]) describe(`quota as data, through ${name}`, () => {
  let bff;
  let queued;
  before(async () => {
    [bff, queued] = await Promise.all([
      // No refresh budget: it would learn the month (one getUsage) before the first answer.
      startServer(["--cache-ttl", "0", "--refresh-budget", "off"]),
      startServer(["--rate", "1/1s", "--cache-ttl", "0", "--refresh-budget", "off"]),
    ]);
  });
  after(() => {
    bff?.stop();
    queued?.stop();
  });

  test("pages, hooks and errors say the minute, and the month once getUsage taught it", async () => {
    const told = [];
    const client = new ConferbotClient({ baseUrl: bff.api, maxRetries: 0, onQuota: (q) => told.push(q) });
    const first = await client.listChatbots({ limit: 2 });
    assert.equal(first.quota.minute.limit, 1000, "the BFF's --rate 1000/1s");
    assert.ok(first.quota.minute.remaining >= 0 && first.quota.minute.remaining < 1000);
    assert.equal(first.quota.month, null, "not known before a getUsage");
    assert.equal(first.quota.queuedMs, 0);
    assert.deepEqual(told, [first.quota]);

    const usage = await client.getUsage();
    const month = told.at(-1).month;
    assert.equal(month.limit, 10_000);
    assert.equal(month.used, usage.used);
    assert.equal(month.remaining, 10_000 - usage.used);
    assert.match(month.reset, /^\d{4}-\d{2}-01T00:00:00\.000Z$/);

    const second = await client.listChatbots({ limit: 2, page: 2 });
    assert.equal(second.quota.month.used, usage.used + 1, "the BFF counts its own calls since");

    const error = await rejection(client.getChatbot("000000000000000000000000"));
    assert.equal(error.status, 404);
    assert.equal(error.quota.month.used, usage.used + 2);
    assert.equal(told.length, 4, "one per answer, errors too");

    // A call's own hook replaces the client's.
    const own = [];
    await client.listWebhooks({ onQuota: (q) => own.push(q) });
    assert.equal(own.length, 1);
    assert.equal(told.length, 4);

    // An observer that throws does not fail the call.
    const throwing = new ConferbotClient({ baseUrl: bff.api, onQuota: () => { throw new Error("observer"); } });
    assert.equal((await throwing.listChatbots({ limit: 1 })).data.length, 1);
  });

  test("a spent month's 429 says so, with what is left and when it resets", async () => {
    const client = new ConferbotClient({ baseUrl: bff.api, maxRetries: 0 });
    await client.getUsage();
    const admin = await fetch(`${bff.admin.origin}/sandbox/usage`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ apiKey: STARTER_KEY, used: 10_000 }),
    });
    assert.equal(admin.status, 200);
    const error = await rejection(client.listWebhooks());
    assert.equal(error.status, 429);
    assert.equal(error.message, "Monthly API limit reached");
    assert.equal(error.quota.month.remaining, 0);
    assert.equal(error.quota.month.limit, 10_000);
    assert.ok(Date.parse(error.quota.month.reset) > Date.now() - 60_000);
  });

  test("a request that waited in the BFF's queue for the rate window says how long", async () => {
    const client = new ConferbotClient({ baseUrl: queued.api, maxRetries: 0 });
    // Three distinct reads (nothing to coalesce) through a window of one call a second.
    const pages = await Promise.all([1, 2, 3].map((page) => client.listChatbots({ limit: 1, page })));
    // (The BFF's own webhook registration may have taken the window's call just before.)
    const waits = pages.map((p) => p.quota.queuedMs).sort((a, b) => a - b);
    assert.ok(waits[2] >= 1_500, `the last waited for two turns of the window: ${waits}`);
    assert.ok(waits[1] - waits[0] >= 500 && waits[2] - waits[1] >= 500, `one turn apart: ${waits}`);
    assert.equal(pages[0].quota.minute.limit, 1);
  });
});

describe("quota as data, straight to the API", () => {
  let sandbox;
  before(async () => {
    sandbox = await startSandbox();
  });
  after(() => sandbox?.stop());

  test("straight to the API there are no quota headers: null", async () => {
    const client = new ConferbotClient({ apiKey: STARTER_KEY, baseUrl: sandbox.api, maxRetries: 0 });
    const told = [];
    const page = await client.listChatbots({ limit: 1 }, { onQuota: (q) => told.push(q) });
    assert.equal(page.quota, null);
    assert.deepEqual(told, []);
    const error = await rejection(client.getChatbot("000000000000000000000000"));
    assert.equal(error.quota, null);
  });
});
