// `onRetry`, the client's hook before each wait between attempts, against the
// real sandbox: told the failed attempt, the error and the wait (Retry-After
// for a 429, backoff for a GET's 500 or dropped connection), before the retry
// that then succeeds; a call's own hook replaces the client's.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { STARTER_KEY, pkg, startSandbox } from "./servers.js";

const { ConferbotClient, ConferbotError } = pkg;

describe("onRetry", () => {
  let sandbox;
  let limited;
  before(async () => {
    [sandbox, limited] = await Promise.all([startSandbox(), startSandbox(["--rate", "2/1s"])]);
  });
  after(() => {
    sandbox?.stop();
    limited?.stop();
  });
  const recorder = () => {
    const seen = [];
    return { seen, hook: (info) => seen.push({ ...info, at: Date.now() }) };
  };

  test("is told of a 500 and a dropped connection, then the GET succeeds", async () => {
    const { seen, hook } = recorder();
    const client = new ConferbotClient({ apiKey: STARTER_KEY, baseUrl: sandbox.api, onRetry: hook });
    await sandbox.admin.fault({ kind: "status500", count: 1 });
    await sandbox.admin.fault({ kind: "drop", count: 1 });
    const page = await client.listChatbots({ limit: 3 });
    assert.equal(page.data.length, 3);
    assert.deepEqual(seen.map((s) => [s.attempt, s.error.kind, s.error.status]), [[1, "server", 500], [2, "network", null]]);
    for (const { error, waitMs } of seen) {
      assert.ok(error instanceof ConferbotError);
      assert.ok(waitMs >= 0 && waitMs <= 1000, `backoff ${waitMs} ms`);
    }
  });

  test("is told a 429's Retry-After, before the wait; a call's own hook replaces the client's", async () => {
    const client = recorder();
    const own = recorder();
    const api = new ConferbotClient({ apiKey: STARTER_KEY, baseUrl: limited.api, onRetry: client.hook });
    await api.getUsage();
    await api.getUsage();
    const asked = Date.now();
    const usage = await api.getUsage({ onRetry: own.hook });
    assert.equal(usage.plan, "Starter");
    assert.equal(client.seen.length, 0, "the call's hook was used instead");
    assert.equal(own.seen.length, 1);
    const [{ attempt, waitMs, error, at }] = own.seen;
    assert.equal(attempt, 1);
    assert.equal(error.kind, "rate_limited");
    assert.equal(waitMs, error.retryAfter * 1000, "the wait is Retry-After");
    assert.ok(Date.now() - at >= waitMs - 50, "told before the wait");
    assert.ok(at - asked < waitMs, "told at its start");
  });
});
