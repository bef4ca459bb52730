// The server half's wasm memory stays bounded under uncached traffic. Every
// answer the handler relays passes through the wasm (the key scan, the
// reply), so every wasm object JS is handed must be freed by JS: one left
// to the garbage collector keeps its whole answer in the wasm memory until
// a finalizer runs, and a wasm memory grows but never shrinks. Before
// core.js freed each upstream answer, the load below found it at 5.2–5.9 MiB
// after 300 pages and grew it by 4.3–5.8 MiB more over 3,000; it now stays
// at 1.2 MiB, not a page more. The handler runs as users mount it,
// `http.createServer(toNodeListener(h))`, in front of the real sandbox.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";

import { pkgDir, startSandbox } from "./servers.js";

const { createConferbotHandler, toNodeListener } = await import(pathToFileURL(join(pkgDir, "server", "node.js")).href);
const CORE = Symbol.for("conferbot-wasm/server core");
const PAGES = 50;
const CONCURRENCY = 16;
/** What the memory may grow by over the measured requests: allocator slack, not answers. */
const ALLOWED_GROWTH = 1024 * 1024;

describe("the handler's wasm memory", () => {
  let sandbox;
  let server;
  let base;
  let handler;

  before(async () => {
    sandbox = await startSandbox(["--rate", "1000000/1s", "--chatbots", String(PAGES * 100)]);
    handler = createConferbotHandler({
      apiKey: "sandbox-enterprise-key",
      upstream: sandbox.api,
      cacheTtlMs: 0,
      rate: "1000000/1s",
    });
    server = createServer(toNodeListener(handler));
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${server.address().port}/api/conferbot/external/v1/chatbots?limit=100&page=`;
  });

  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
    sandbox?.stop();
  });

  /** `count` uncached reads of whole pages, `CONCURRENCY` at a time; the bytes relayed. */
  async function read(count) {
    let next = 0;
    let bytes = 0;
    const worker = async () => {
      while (next < count) {
        const page = (next++ % PAGES) + 1;
        const response = await fetch(`${base}${page}`);
        const body = await response.arrayBuffer();
        assert.equal(response.status, 200, new TextDecoder().decode(body));
        bytes += body.byteLength;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return bytes;
  }

  test("3,000 uncached pages of 100 chatbots leave it where 300 left it", async () => {
    const size = handler[CORE].wasmMemoryBytes;
    await read(300);
    const warm = size();
    const relayed = await read(3_000);
    const grown = size() - warm;
    assert.ok(relayed > 40 * 1024 * 1024, `the load relays whole pages (${relayed} B)`);
    assert.ok(
      grown <= ALLOWED_GROWTH,
      `the wasm memory grew by ${grown} B (from ${warm} B) while relaying ${relayed} B: answers are kept after their requests`,
    );
  });
});
