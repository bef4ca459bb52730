// The server half's upstream timeout (`upstreamTimeoutMs`) covers the whole
// call, as conferbot-bff's `--upstream-timeout` does: an upstream that never
// answers, and one that sends its head and then stalls in the body, are
// both answered 504 within the timeout, and a call that comes back in time
// is not cut off later by a timer left behind (forward.js clears it).
// The upstream is a real HTTP server on 127.0.0.1 that misbehaves on purpose.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";

import { pkgDir } from "./servers.js";

const { createConferbotHandler } = await import(pathToFileURL(join(pkgDir, "server", "node.js")).href);
const TIMEOUT_MS = 300;
const PAGE = JSON.stringify({ data: [], pagination: { page: 1, limit: 20, total: 0, totalPages: 0 } });

describe("the handler's upstream timeout", () => {
  let upstream;
  let base;
  const held = new Set();

  before(async () => {
    upstream = createServer((req, res) => {
      held.add(res);
      res.on("close", () => held.delete(res));
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

  /** One GET through a handler whose upstream is `base + prefix`: `{status, body, ms}`. */
  async function get(prefix) {
    const h = createConferbotHandler({ apiKey: "timeout-test-key", upstream: base + prefix, upstreamTimeoutMs: TIMEOUT_MS, cacheTtlMs: 0 });
    const started = performance.now();
    const res = await h(new Request("http://localhost/api/conferbot/external/v1/chatbots", { headers: { host: "localhost" } }));
    const body = await res.json();
    return { status: res.status, body, ms: performance.now() - started };
  }

  test("an upstream that never answers: 504 once the timeout has passed", async () => {
    const { status, body, ms } = await get("/silent");
    assert.equal(status, 504);
    assert.equal(typeof body.error, "string");
    assert.ok(ms >= TIMEOUT_MS - 20, `answered after ${ms} ms, before the ${TIMEOUT_MS} ms timeout`);
    assert.ok(ms < TIMEOUT_MS * 10, `answered after ${ms} ms`);
  });

  test("an upstream that stalls in the body: 504, the timeout covers the body too", async () => {
    const { status, ms } = await get("/stall");
    assert.equal(status, 504);
    assert.ok(ms >= TIMEOUT_MS - 20 && ms < TIMEOUT_MS * 10, `answered after ${ms} ms`);
  });

  test("an answer in time is passed on whole", async () => {
    const { status, body } = await get("/ok");
    assert.equal(status, 200);
    assert.deepEqual(body.data, []);
  });
});
