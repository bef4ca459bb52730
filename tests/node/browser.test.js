// The package in headless Chromium, served by the real BFF (same origin, so
// the client's default base URL /api/conferbot works): once as a plain
// `<script type="module">` importing pkg/browser.js, once as an app bundled
// by esbuild from the installed package.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import * as esbuild from "esbuild";
import { chromium } from "playwright-core";

import { installPackedPackage } from "./install.js";
import { pkgDir, startBff } from "./servers.js";

const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

// What each page runs: list, iterate, a 404, the browser's refusal of a key.
const APP = (specifier) => `
import { ConferbotClient, ConferbotError } from "${specifier}";
try {
  const client = new ConferbotClient();
  const page = await client.listChatbots({ limit: 10 });
  let iterated = 0;
  for await (const bot of client.chatbots({ limit: 50 })) iterated += bot.id.length === 24 ? 1 : 0;
  const error = await client.getChatbot("000000000000000000000000").catch((e) => e);
  let refused = null;
  try { new ConferbotClient({ apiKey: "k" }); } catch (e) { refused = e.kind; }
  window.result = { total: page.total, first: page.data.length, iterated, notFound: error.kind,
    isError: error instanceof Error && error instanceof ConferbotError, refused };
} catch (e) {
  window.result = { failed: String(e && e.stack || e) };
}`;

describe("in headless Chromium", () => {
  let www;
  let installed;
  let bff;
  let browser;
  before(async () => {
    www = mkdtempSync(join(tmpdir(), "conferbot-wasm-www-"));
    writeFileSync(join(www, "module.html"), `<!doctype html><script type="module">${APP("/pkg/browser.js")}</script>`);
    installed = installPackedPackage();
    writeFileSync(join(installed.dir, "app.js"), APP("conferbot-wasm"));
    mkdirSync(join(www, "bundle"));
    await esbuild.build({
      entryPoints: [join(installed.dir, "app.js")],
      bundle: true,
      format: "esm",
      platform: "browser",
      outfile: join(www, "bundle", "app.js"),
      logLevel: "silent",
    });
    // esbuild leaves `new URL("./conferbot_bg.wasm", import.meta.url)` alone: the wasm goes beside the bundle.
    copyFileSync(join(installed.dir, "node_modules/conferbot-wasm/conferbot_bg.wasm"), join(www, "bundle", "conferbot_bg.wasm"));
    writeFileSync(join(www, "bundled.html"), `<!doctype html><script type="module" src="/bundle/app.js"></script>`);
    bff = await startBff(["--www", www, "--pkg", pkgDir]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  after(async () => {
    await browser?.close();
    bff?.stop();
    installed?.cleanup();
    if (www) rmSync(www, { recursive: true, force: true });
  });

  for (const [name, path] of [["a <script type=\"module\"> importing pkg/browser.js", "/module.html"], ["an esbuild bundle of the installed package", "/bundled.html"]]) {
    test(`${name} lists chatbots through the BFF`, async () => {
      const page = await browser.newPage();
      const errors = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      try {
        await page.goto(`${bff.origin}${path}`);
        await page.waitForFunction(() => window.result !== undefined, null, { timeout: 20_000 });
        const result = await page.evaluate(() => window.result);
        assert.deepEqual(errors, []);
        assert.deepEqual(result, { total: 137, first: 10, iterated: 137, notFound: "not_found", isError: true, refused: "invalid_request" });
      } finally {
        await page.close();
      }
    });
  }
});
