// The packed package's server half where users mount it, each one listing
// chatbots with the package's client through the handler, in front of a
// sandbox this file starts: Node `http.createServer(toNodeListener(h))`,
// Express 5 `app.use(toNodeListener(h))`, Hono on @hono/node-server, Next.js's
// route-handler contract (app/api/conferbot/[...path]/route.ts, exercised
// directly: no `next build`), Deno `Deno.serve(h)`, Bun `Bun.serve({ fetch: h })`,
// and a Worker in workerd through Miniflare. What each lists must be what
// the sandbox answers a plain fetch; paths outside the mount are left to
// the framework (404, or Express's next middleware).
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import * as esbuild from "esbuild";

import { installPackedPackage } from "../node/install.js";
import { root, STARTER_KEY, startSandbox } from "../node/servers.js";
import { bundleLikeWrangler, runScript, runtimeVersion, startWorker } from "./harness.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
/** The frameworks the fixtures import: the workspace's exact-pinned devDependencies, linked into the test project. */
const FRAMEWORKS = ["express", "hono", "@hono/node-server"];

describe("the packed server half where users mount it", () => {
  let installed;
  let sandbox;
  let expected;
  before(async () => {
    installed = installPackedPackage();
    for (const file of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, file), join(installed.dir, file));
    for (const name of FRAMEWORKS) {
      const link = join(installed.dir, "node_modules", name);
      mkdirSync(join(link, ".."), { recursive: true });
      symlinkSync(join(root, "node_modules", name), link);
    }
    sandbox = await startSandbox();
    const response = await fetch(`${sandbox.api}/external/v1/chatbots?limit=3`, { headers: { "x-api-key": STARTER_KEY } });
    const body = await response.json();
    expected = { total: body.total, names: body.data.map((bot) => bot.name), missing: "not_found", refusesKey: null };
  });
  after(() => {
    sandbox?.stop();
    installed?.cleanup();
  });

  const args = () => [sandbox.api, STARTER_KEY];

  test("Node: http.createServer(toNodeListener(h))", async () => {
    assert.deepEqual(await runScript("node", installed.dir, "serve-node.mjs", args()), { ...expected, outside: 404 });
  });

  test("Express 5: app.use(toNodeListener(h)), other paths to next()", async () => {
    assert.deepEqual(await runScript("node", installed.dir, "serve-express.mjs", args()), { ...expected, outside: 418 });
  });

  test("Hono on @hono/node-server: app.all(\"/api/conferbot/*\", (c) => h(c.req.raw))", async () => {
    assert.deepEqual(await runScript("node", installed.dir, "serve-hono.mjs", args()), { ...expected, outside: 404 });
  });

  test("Next.js App Router: export { h as GET, h as POST, h as DELETE } (the route-handler contract, called directly)", async () => {
    const listed = await runScript("node", installed.dir, "serve-next-contract.mjs", args());
    assert.deepEqual(listed, { ...expected, exports: ["DELETE", "GET", "POST"], wrote: "string" });
  });

  test("Deno: Deno.serve(h) (--allow-read --allow-net=127.0.0.1)", async (t) => {
    t.diagnostic(await runtimeVersion("deno"));
    assert.deepEqual(await runScript("deno", installed.dir, "serve-deno.js", args()), { ...expected, outside: 404 });
  });

  test("Bun: Bun.serve({ fetch: h })", async (t) => {
    t.diagnostic(await runtimeVersion("bun"));
    assert.deepEqual(await runScript("bun", installed.dir, "serve-bun.mjs", args()), { ...expected, outside: 404 });
  });

  test("Cloudflare workerd through Miniflare: the Worker's fetch is h (its own wasm as a module)", async () => {
    const { modules } = await bundleLikeWrangler(installed.dir, "serve-worker.js", join(installed.dir, "wrangler-server-check"));
    assert.deepEqual(modules.map((m) => m.type), ["ESModule", "CompiledWasm"]);
    assert.match(modules[1].path, /conferbot_server_bg\.wasm$/, "the server's wasm, not the client's");
    const worker = await startWorker(installed.dir, "serve-worker.js", { BASE: sandbox.api, KEY: STARTER_KEY, CACHE_TTL_MS: "1000", HOST: "worker.test" });
    try {
      const first = await worker.fetch("/api/conferbot/external/v1/chatbots?limit=3");
      const body = await first.json();
      assert.equal(first.status, 200);
      assert.deepEqual({ total: body.total, names: body.data.map((bot) => bot.name) }, { total: expected.total, names: expected.names });
      assert.equal(first.headers.get("x-cache"), "miss");
      const again = await worker.fetch("/api/conferbot/external/v1/chatbots?page=1&limit=3");
      await again.arrayBuffer();
      assert.equal(again.headers.get("x-cache"), "hit");
      const hostile = await worker.fetch("/api/conferbot/external/v1/chatbots/123");
      assert.equal(hostile.status, 400);
      assert.equal((await hostile.json()).error, "Invalid request");
      // Past its freshness: answered at once, marked stale, and refreshed
      // through ctx.waitUntil after the answer.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const calls = (await sandbox.admin.stats()).apiCalls;
      const stale = await worker.fetch("/api/conferbot/external/v1/chatbots?limit=3");
      await stale.arrayBuffer();
      assert.equal(stale.headers.get("x-cache"), "stale");
      let fresh;
      for (const until = Date.now() + 5_000; fresh !== "hit" && Date.now() < until; ) {
        const again = await worker.fetch("/api/conferbot/external/v1/chatbots?limit=3");
        await again.arrayBuffer();
        fresh = again.headers.get("x-cache");
      }
      assert.equal(fresh, "hit", "the refresh landed");
      assert.equal((await sandbox.admin.stats()).apiCalls - calls, 1, "one refresh");
      assert.deepEqual(await (await worker.fetch("/waited")).json(), { waited: 1 }, "handed to ctx.waitUntil");
    } finally {
      await worker.stop();
    }
  });

  test("a browser bundle gets a module that refuses, without the server's wasm; so does a page at run time", async () => {
    writeFileSync(join(installed.dir, "browser-app.mjs"), 'export { createConferbotHandler } from "conferbot-wasm/server";\n');
    const outfile = join(installed.dir, "browser-bundle", "app.mjs");
    await esbuild.build({ absWorkingDir: installed.dir, entryPoints: ["browser-app.mjs"], outfile, bundle: true, format: "esm", platform: "browser", logLevel: "silent" });
    const bundle = readFileSync(outfile, "utf8");
    assert.doesNotMatch(bundle, /conferbot_server_bg\.wasm|sharedLayout/, "the server's wasm is not in a browser bundle");
    const { createConferbotHandler } = await import(pathToFileURL(outfile).href);
    assert.throws(() => createConferbotHandler({ apiKey: "k" }), /runs on servers only/);
    // The Node entry itself, in a page-like global scope, refuses too.
    const { createConferbotHandler: real } = await import(pathToFileURL(join(installed.dir, "node_modules/conferbot-wasm/server/node.js")).href);
    Object.assign(globalThis, { window: globalThis, document: {} });
    try {
      assert.throws(() => real({ apiKey: "k" }), /holds the Conferbot API key and runs on servers only/);
    } finally {
      delete globalThis.window;
      delete globalThis.document;
    }
  });
});
