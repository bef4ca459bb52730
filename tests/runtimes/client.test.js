// The packed client package in every runtime users run it in, each listing
// chatbots once (tests/runtimes/fixtures/list-chatbots.mjs) against servers
// this file starts on 127.0.0.1: Node (ESM and CommonJS), Bun and Deno call
// a sandbox directly with a key; workerd (through Miniflare) does too, from
// a Worker bundled as wrangler bundles it; Chromium runs the browser entry as
// a plain module, a Vite build, and esbuild builds (esm and iife) of the init
// entry, all served by a BFF in front of its embedded sandbox. What each one
// listed must be what the server answers to a plain `fetch`.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";
import { build as viteBuild } from "vite";

import { installPackedPackage } from "../node/install.js";
import { STARTER_KEY, startBff, startSandbox } from "../node/servers.js";
import { bundleLikeWrangler, closeChromium, openInChromium, runScript, runWorker, runtimeVersion } from "./harness.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** The first page of 3 chatbots, as the server answers a plain fetch. */
async function firstPage(api, headers = {}) {
  const response = await fetch(`${api}/external/v1/chatbots?limit=3`, { headers });
  assert.equal(response.status, 200);
  const body = await response.json();
  return { total: body.total, names: body.data.map((bot) => bot.name) };
}

describe("the packed client in every runtime", () => {
  let installed;
  let sandbox;
  let bff;
  let www;
  let direct; // what a server-side runtime must list: the sandbox's answer
  let proxied; // what a page must list: the BFF's answer
  before(async () => {
    installed = installPackedPackage();
    for (const file of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, file), join(installed.dir, file));
    www = mkdtempSync(join(tmpdir(), "conferbot-wasm-runtimes-www-"));
    copyFileSync(join(FIXTURES, "list-chatbots.mjs"), join(www, "list-chatbots.mjs"));
    sandbox = await startSandbox();
    bff = await startBff(["--www", www, "--pkg", join(installed.dir, "node_modules/conferbot-wasm")]);
    const server = await firstPage(sandbox.api, { "x-api-key": STARTER_KEY });
    direct = { ...server, missing: "not_found", refusesKey: null };
    proxied = { ...(await firstPage(bff.api)), missing: "not_found", refusesKey: "invalid_request" };
    assert.equal(server.names.length, 3);
  });
  after(async () => {
    await closeChromium();
    bff?.stop();
    sandbox?.stop();
    installed?.cleanup();
    if (www) rmSync(www, { recursive: true, force: true });
  });

  test("Node, ESM: `import` from the package's name", async () => {
    assert.deepEqual(await runScript("node", installed.dir, "script.mjs", [sandbox.api, STARTER_KEY]), direct);
  });

  test("Node, CommonJS: `require(\"conferbot-wasm\")`", async () => {
    assert.deepEqual(await runScript("node", installed.dir, "script.cjs", [sandbox.api, STARTER_KEY]), direct);
  });

  test("Bun", async (t) => {
    t.diagnostic(await runtimeVersion("bun"));
    assert.deepEqual(await runScript("bun", installed.dir, "script.mjs", [sandbox.api, STARTER_KEY]), direct);
  });

  test("Deno (--allow-read --allow-net=127.0.0.1)", async (t) => {
    t.diagnostic(await runtimeVersion("deno"));
    assert.deepEqual(await runScript("deno", installed.dir, "deno.js", [sandbox.api, STARTER_KEY]), direct);
  });

  test("workerd through Miniflare, the Worker bundled as wrangler bundles it", async () => {
    const { script, modules } = await bundleLikeWrangler(installed.dir, "worker.js", join(installed.dir, "wrangler-check"));
    // The wasm stays a module of its own, and nothing in the bundle needs import.meta.
    assert.deepEqual(modules.map((m) => m.type), ["ESModule", "CompiledWasm"]);
    assert.doesNotMatch(readFileSync(script, "utf8"), /import\.meta/);
    assert.deepEqual(await runWorker(installed.dir, "worker.js", { BASE: sandbox.api, KEY: STARTER_KEY }), direct);
  });

  test("Chromium: a <script type=\"module\"> importing the package's browser.js", async () => {
    writeFileSync(
      join(www, "module.html"),
      `<!doctype html><script type="module">
        import * as conferbot from "/pkg/browser.js";
        import { listChatbots } from "/list-chatbots.mjs";
        window.result = await listChatbots(conferbot, {}).catch((e) => ({ failed: String(e.stack ?? e) }));
      </script>`,
    );
    assert.deepEqual(await openInChromium(`${bff.origin}/module.html`), proxied);
  });

  test("a Vite build (the browser entry; Vite copies the wasm), in Chromium", async () => {
    const app = join(installed.dir, "vite-app");
    mkdirSync(app);
    copyFileSync(join(installed.dir, "vite-index.html"), join(app, "index.html"));
    for (const file of ["vite-main.js", "list-chatbots.mjs"]) copyFileSync(join(installed.dir, file), join(app, file));
    await viteBuild({ root: app, base: "./", logLevel: "silent", configFile: false, build: { outDir: join(www, "vite"), emptyOutDir: true } });
    const assets = readdirSync(join(www, "vite", "assets"));
    assert.ok(assets.some((f) => /^conferbot_bg-.+\.wasm$/.test(f)), `Vite emitted the wasm: ${assets}`);
    assert.deepEqual(await openInChromium(`${bff.origin}/vite/index.html`), proxied);
  });

  for (const format of ["esm", "iife"]) {
    test(`esbuild --format=${format} --loader:.wasm=file with conferbot-wasm/init, in Chromium`, async () => {
      const out = join(www, `esbuild-${format}`);
      const result = await esbuild.build({
        absWorkingDir: installed.dir,
        entryPoints: [`esbuild-init-${format}.js`],
        outfile: join(out, "app.js"),
        bundle: true,
        format,
        loader: { ".wasm": "file" },
        logLevel: "silent",
      });
      assert.deepEqual(result.warnings, [], "esbuild warned");
      assert.ok(readdirSync(out).some((f) => /^conferbot_bg-.+\.wasm$/.test(f)), "esbuild copied the wasm");
      const tag = format === "esm" ? `<script type="module" src="app.js"></script>` : `<script src="app.js"></script>`;
      writeFileSync(join(out, "index.html"), `<!doctype html>${tag}`);
      const listed = await openInChromium(`${bff.origin}/esbuild-${format}/index.html`);
      if (format === "iife") {
        assert.deepEqual(listed, proxied);
        return;
      }
      const { beforeInit, missingFile, ...rest } = listed;
      assert.deepEqual(rest, proxied);
      assert.equal(beforeInit.kind, "invalid_request");
      assert.equal(beforeInit.isError, true);
      assert.match(beforeInit.message, /call `await init\(wasmUrl\)` before using the client/);
      assert.deepEqual({ kind: missingFile.kind, status: missingFile.status, isError: missingFile.isError }, { kind: "network", status: 404, isError: true });
      assert.equal(missingFile.message, `conferbot_bg.wasm was not found at ${bff.origin}/nowhere/conferbot_bg.wasm (HTTP 404)`);
    });
  }
});
