// The built package against the real sandbox (direct mode, with a key) and
// the real BFF (proxy mode, no key): lists, pagination, reads and webhooks.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { MODES, pkg } from "./servers.js";

const { ConferbotClient, ConferbotError } = pkg;

test("the package exports the plan facts and page bounds, from the Rust tables", () => {
  assert.equal(pkg.MAX_LIMIT, 100);
  assert.equal(pkg.DEFAULT_LIMIT, 20);
  assert.deepEqual(pkg.PLANS.map((p) => [p.name, p.monthlyCalls, p.webhooks]), [
    ["Free", 0, 0], ["Starter", 10000, 5], ["Pro", 50000, 15], ["Business", 200000, 50], ["Enterprise", null, 999],
  ]);
  assert.ok(Object.isFrozen(pkg.PLANS) && Object.isFrozen(pkg.PLANS[0]));
  assert.deepEqual(pkg.WEBHOOK_EVENTS, ["response.created", "response.updated", "conversation.started", "conversation.completed"]);
  assert.equal(pkg.RESYNC_EVENT, "resync");
  assert.equal(pkg.planFacts("STARTER")?.webhooks, 5);
  assert.equal(pkg.planFacts("Growth"), null);
});

test("an operation that returns nothing resolves on any 2xx, whatever the body", async () => {
  const { createServer } = await import("node:http");
  const bodies = [[200, '{"data": {"deleted": true}}'], [204, ""], [200, "ok"], [202, "[1]"]];
  const server = createServer((request, response) => {
    const [status, body] = bodies.shift();
    response.writeHead(status, { "content-type": "application/json" });
    response.end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const direct = new ConferbotClient({ baseUrl: `http://127.0.0.1:${server.address().port}/api/v1`, apiKey: "k" });
    for (let i = 0; i < 4; i++) assert.equal(await direct.deleteWebhook("64f8a2b3c1d4e5f6a7b8c9d0"), undefined);
  } finally {
    server.close();
  }
});

for (const [mode, start] of Object.entries(MODES)) {
  describe(`${mode} mode`, () => {
    let env;
    let client;
    before(async () => {
      env = await start();
      client = new ConferbotClient(env.options);
    });
    after(() => env?.stop());

    test("listChatbots answers a page with totals", async () => {
      const page = await client.listChatbots({ page: 2, limit: 25 });
      assert.equal(page.total, 137);
      assert.equal(page.page, 2);
      assert.equal(page.totalPages, 6);
      assert.equal(page.data.length, 25);
      assert.equal(page.hasNextPage(), true);
      const bot = page.data[0];
      assert.match(bot.id, /^[0-9a-f]{24}$/);
      assert.equal(typeof bot.name, "string");
      assert.equal(typeof bot.responseCount, "number");
      const last = await client.listChatbots({ page: 6, limit: 25 });
      assert.equal(last.data.length, 12);
      assert.equal(last.hasNextPage(), false);
      const next = await page.getNextPage();
      assert.equal(next.page, 3);
      assert.notEqual(next.data[0].id, bot.id);
    });

    test("for await over chatbots({limit: 25}) yields all 137, distinct, in order", async () => {
      const expected = [];
      for (const n of [1, 2]) expected.push(...(await client.listChatbots({ page: n, limit: 100 })).data.map((b) => b.id));
      const seen = [];
      for await (const bot of client.chatbots({ limit: 25 })) seen.push(bot.id);
      assert.equal(seen.length, 137);
      assert.equal(new Set(seen).size, 137);
      assert.deepEqual(seen, expected);
    });

    test("responses() walks every response of a chatbot", async () => {
      const [bot] = (await client.listChatbots({ limit: 1 })).data;
      const first = await client.listResponses(bot.id, { limit: 5 });
      let count = 0;
      for await (const response of client.responses(bot.id, { limit: 7 })) {
        assert.equal(response.chatbotId, bot.id);
        assert.equal(typeof response.answers, "object");
        count += 1;
      }
      assert.equal(count, first.total);
    });

    test("getChatbot and getUsage", async () => {
      const [bot] = (await client.listChatbots({ limit: 1 })).data;
      assert.deepEqual(await client.getChatbot(bot.id), bot);
      const usage = await client.getUsage();
      assert.equal(usage.plan, "Starter");
      assert.equal(usage.limit, 10000);
      assert.equal(typeof usage.used, "number");
      assert.equal(usage.remaining, usage.limit - usage.used);
      assert.match(usage.month, /^\d{4}-\d{2}$/);
    });

    test("webhooks: create, list, delete", async () => {
      const created = await client.createWebhook({
        url: "https://hooks.example.com/conferbot",
        events: ["response.created", "conversation.completed"],
      });
      assert.match(created.id, /^[0-9a-f]{24}$/);
      assert.equal(typeof created.secret, "string");
      assert.deepEqual(created.events, ["response.created", "conversation.completed"]);
      const listed = await client.listWebhooks();
      assert.ok(listed.some((hook) => hook.id === created.id));
      assert.equal(await client.deleteWebhook(created.id), undefined);
      assert.ok(!(await client.listWebhooks()).some((hook) => hook.id === created.id));
      const gone = await client.deleteWebhook(created.id).catch((e) => e);
      assert.ok(gone instanceof ConferbotError);
      assert.equal(gone.kind, "not_found");
    });

    test("a list call's promise is async-iterable over every item; pages iterate pages", async () => {
      const seen = [];
      for await (const bot of client.listChatbots({ limit: 50 })) seen.push(bot.id);
      assert.equal(seen.length, 137);
      assert.equal(new Set(seen).size, 137);
      const first = await client.listChatbots({ limit: 50 });
      const numbers = [];
      for await (const page of first.iterPages()) numbers.push([page.page, page.data.length]);
      assert.deepEqual(numbers, [[1, 50], [2, 50], [3, 37]]);
    });

    test("withOptions derives a client; the original keeps its own", async () => {
      const small = client.withOptions({ maxRetries: 0, headers: { "x-trace": "t" } });
      assert.ok(small instanceof ConferbotClient);
      assert.equal((await small.listChatbots({ limit: 3 })).data.length, 3);
      assert.throws(() => client.withOptions({ timeoutMs: -1 }), (e) => e instanceof ConferbotError && e.kind === "invalid_request");
    });
  });
}
