// `client.events()` against the real BFF with its embedded sandbox, and against the
// package's own handler in a Node server on its sandbox: the
// sandbox's simulated activity is delivered to the server's webhook receiver and
// streamed to the client over SSE. Between client and BFF sits a proxy that
// can cut the stream, to see the client reconnect with Last-Event-ID and get
// what it missed.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { startCutter } from "./cutter.js";
import { STARTER_KEY, pkg, rejection, startBff, startHandlerOnSandbox, startSandbox } from "./servers.js";

const { ConferbotClient } = pkg;

/** Polls `check` until it answers something truthy; fails after `ms`. */
async function until(what, check, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** How many event streams the BFF at `origin` is serving (its metrics say). */
async function streamsServed(origin) {
  const metrics = await (await fetch(`${origin}/metrics`)).text();
  const line = metrics.split("\n").find((l) => l.startsWith("conferbot_bff_sse_clients "));
  assert.ok(line, "the BFF reports conferbot_bff_sse_clients");
  return Number(line.split(" ")[1]);
}

/** The iterator's next event whose type is `type` (earlier ones are skipped). */
async function nextOfType(iterator, type) {
  for (;;) {
    const { value, done } = await iterator.next();
    assert.equal(done, false, `the stream ended before a ${type}`);
    if (value.type === type) return value;
  }
}

for (const [name, start] of [["the BFF", startBff], ["the package's handler in a Node server", startHandlerOnSandbox]]) describe(`live events through ${name}`, () => {
  let bff;
  let cutter;
  let client;
  before(async () => {
    bff = await start(["--sse-retry", "100ms"]);
    cutter = await startCutter(bff.origin);
    client = new ConferbotClient({ baseUrl: `${cutter.origin}/api/conferbot` });
  });
  after(() => {
    cutter?.close();
    bff?.stop();
  });

  test("a new response arrives as response.created; a cut stream resumes from Last-Event-ID", async () => {
    const iterator = client.events()[Symbol.asyncIterator]();
    try {
      // The subscription starts with the first next(); events before it are not replayed.
      const pending = iterator.next();
      const created = new Set();
      let first;
      while (!first) {
        created.add((await bff.admin.simulate()).data.id);
        first = await Promise.race([pending, sleep(500)]);
      }
      const event = first.value;
      assert.equal(event.type, "response.created");
      assert.match(event.id, /^\d+$/);
      assert.match(event.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      assert.ok(created.has(event.data.responseId), JSON.stringify(event));
      assert.match(event.data.botId, /^[0-9a-f]{24}$/);
      assert.match(event.data.chatSessionId, /^sess_/);
      assert.equal(event.data.answers, undefined, "a delivery carries ids, never the response's content");
      assert.match(cutter.heads[0], /^GET \/api\/conferbot\/events HTTP\/1\.1\r\n/);
      assert.match(cutter.heads[0], /\r\naccept: text\/event-stream\r\n/i);

      // Cut the stream, and let an event happen while the client is away.
      cutter.hold();
      cutter.cut();
      const missed = (await bff.admin.simulate({ event: "conversation.started" })).delivery;
      await until("the delivery of the missed event", async () =>
        (await bff.admin.deliveries()).some((d) => d.event === "conversation.started" && d.delivered));
      cutter.release();
      const replayed = await nextOfType(iterator, "conversation.started");
      assert.equal(replayed.data.chatSessionId, missed.chatSessionId);
      const resumedFrom = /\r\nlast-event-id: (\d+)\r\n/i.exec(cutter.heads.at(-1));
      assert.ok(resumedFrom, cutter.heads.at(-1));
      assert.ok(Number(resumedFrom[1]) >= Number(event.id));
      assert.ok(Number(replayed.id) > Number(resumedFrom[1]));
    } finally {
      await iterator.return();
    }
    await until("the stream to close", async () => (await streamsServed(bff.origin)) === 0);
  });

  test("breaking out of for await closes the stream; so does the signal, without an error", async () => {
    const simulating = setInterval(() => bff.admin.simulate().catch(() => {}), 200);
    try {
      for await (const event of client.events()) {
        assert.equal(event.type, "response.created");
        break;
      }
    } finally {
      clearInterval(simulating);
    }
    await until("the stream to close", async () => (await streamsServed(bff.origin)) === 0);
    const signal = AbortSignal.timeout(300);
    for await (const event of client.events({ signal })) assert.ok(event);
    assert.equal(signal.aborted, true);
    await until("the stream to close", async () => (await streamsServed(bff.origin)) === 0);
  });

  test("a base URL that is not a BFF rejects the iteration", async () => {
    const sandbox = await startSandbox();
    try {
      const direct = new ConferbotClient({ apiKey: STARTER_KEY, baseUrl: sandbox.api });
      const error = await rejection(direct.events()[Symbol.asyncIterator]().next());
      assert.equal(error.kind, "not_found");
      assert.equal(error.status, 404);
    } finally {
      sandbox.stop();
    }
  });
});
