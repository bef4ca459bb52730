// One place that runs a small program in each JavaScript runtime users run
// the package in, and answers what that program reported (one JSON value):
//
// - `runScript("node" | "bun" | "deno", dir, file, args)`: the runtime's own
//   binary (from the workspace's npm devDependencies) runs `file` in `dir`,
//   a project with the packed package installed; the script prints its JSON
//   as its last stdout line.
// - `startWorker(dir, entry, bindings)` / `runWorker(…)`: `entry` bundled the
//   way wrangler bundles a Worker (esbuild, conditions workerd/worker/browser,
//   `.wasm` imports kept as separate compiled-wasm modules), run in workerd
//   through Miniflare; the Worker answers the JSON.
// - `openInChromium(url)`: a page in headless Chromium that sets
//   `window.result` to its JSON.
//
// The servers the programs talk to (the sandbox, the BFF) are started by the
// tests themselves (tests/node/servers.js), on 127.0.0.1 port 0.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { promisify } from "node:util";

import * as esbuild from "esbuild";
import { Miniflare } from "miniflare";
import { chromium } from "playwright-core";

import { root } from "../node/servers.js";

const run = promisify(execFile);
const bin = (name) => join(root, "node_modules", ".bin", name);

/** How long one program may take; each lists once, so this is generous. */
const TIMEOUT_MS = 30_000;

/** `promise`, or a rejection naming `what` after TIMEOUT_MS. */
function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The command line that runs `file` with `args` in each runtime. Deno reads
 * the package (`--allow-read`) and talks to 127.0.0.1 only (`--allow-net`);
 * it never prompts and never looks for updates.
 */
export function runtimeCommand(runtime, file, args = []) {
  switch (runtime) {
    case "node":
      return [process.execPath, [file, ...args]];
    case "bun":
      return [bin("bun"), [file, ...args]];
    case "deno":
      return [bin("deno"), ["run", "--no-prompt", "--allow-read", "--allow-net=127.0.0.1", file, ...args]];
    default:
      throw new Error(`unknown runtime ${runtime}`);
  }
}

/** Environment for every runtime: no update checks, no colour in errors, no Bun cache written under $HOME. */
const QUIET = { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" };

/** Runs `file` in `runtime` inside `dir`; answers the JSON its last stdout line holds. */
export async function runScript(runtime, dir, file, args = []) {
  const [command, argv] = runtimeCommand(runtime, file, args);
  let out;
  try {
    out = await run(command, argv, { cwd: dir, env: { ...process.env, ...QUIET }, timeout: TIMEOUT_MS, encoding: "utf8" });
  } catch (error) {
    throw new Error(`${runtime} ${file} failed (${error.code ?? error.signal}):\n${error.stdout ?? ""}\n${error.stderr ?? ""}`);
  }
  const last = out.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`${runtime} ${file} printed no JSON:\n${out.stdout}\n${out.stderr}`);
  }
}

/** The version each runtime reports, for the test names and the report. */
export async function runtimeVersion(runtime) {
  const [command] = runtimeCommand(runtime, "x");
  const { stdout } = await run(command, ["--version"], { env: { ...process.env, ...QUIET }, encoding: "utf8" });
  return stdout.split("\n")[0].trim();
}

/**
 * What wrangler does with `import wasm from "./x.wasm"` (its default module
 * rule CompiledWasm, `**\/*.wasm` and `**\/*.wasm?module`): the file is not
 * bundled but uploaded beside the bundle as `./<sha1>-<name>.wasm`, and the
 * import stays, so workerd hands the code a compiled WebAssembly.Module.
 */
function wasmModulesLikeWrangler(outdir, modules) {
  return {
    name: "wasm-modules-like-wrangler",
    setup(build) {
      build.onResolve({ filter: /\.wasm(\?module)?$/ }, (args) => {
        const file = join(args.resolveDir, args.path.replace(/\?module$/, ""));
        const hash = createHash("sha1").update(readFileSync(file)).digest("hex");
        const name = `${hash}-${basename(file)}`;
        copyFileSync(file, join(outdir, name));
        modules.push({ type: "CompiledWasm", path: join(outdir, name) });
        return { path: `./${name}`, external: true };
      });
    },
  };
}

/** Bundles `entry` (in `dir`) as wrangler does, into `outdir`: `{ script, modules }`. */
export async function bundleLikeWrangler(dir, entry, outdir) {
  mkdirSync(outdir, { recursive: true });
  const wasm = [];
  const script = join(outdir, "worker.js");
  await esbuild.build({
    absWorkingDir: dir,
    entryPoints: [entry],
    outfile: script,
    bundle: true,
    format: "esm",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    plugins: [wasmModulesLikeWrangler(outdir, wasm)],
    logLevel: "silent",
  });
  return { script, modules: [{ type: "ESModule", path: script }, ...wasm] };
}

/** The compatibility date the Worker runs with: one the installed workerd supports. */
const COMPATIBILITY_DATE = "2026-07-01";

/**
 * Bundles `entry` like wrangler and starts it in workerd through Miniflare,
 * with `bindings` as its `env`: `{ fetch(path, init), stop() }`.
 */
export async function startWorker(dir, entry, bindings = {}) {
  const outdir = join(dir, ".wrangler-like", basename(entry, ".js"));
  const { modules } = await bundleLikeWrangler(dir, entry, outdir);
  // `cf: false`: Miniflare would otherwise download Cloudflare's `Request.cf` sample.
  const miniflare = new Miniflare({ modules, modulesRoot: outdir, bindings, compatibilityDate: COMPATIBILITY_DATE, cf: false });
  await within(miniflare.ready, `workerd starting ${entry}`).catch(async (error) => {
    await miniflare.dispose().catch(() => {});
    throw error;
  });
  return {
    fetch: (path = "/", init) => miniflare.dispatchFetch(new URL(path, "http://worker.test").href, init),
    stop: () => miniflare.dispose(),
  };
}

/** Starts the Worker `entry`, asks it `GET /` once, stops it; answers its JSON. */
export async function runWorker(dir, entry, bindings = {}) {
  const worker = await startWorker(dir, entry, bindings);
  try {
    const response = await within(worker.fetch("/"), `the Worker ${entry} answering`);
    const text = await response.text();
    if (!response.ok) throw new Error(`the Worker answered ${response.status}: ${text}`);
    return JSON.parse(text);
  } finally {
    await worker.stop();
  }
}

const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let browser;

/** Headless Chromium (Debian's), launched once per test file; `closeChromium()` in `after`. */
async function chromiumBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (cargo xtask test installs it)`);
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  return browser;
}

export async function closeChromium() {
  await browser?.close();
  browser = undefined;
}

/**
 * Opens `url` and answers the page's `window.result`; fails with the page's
 * uncaught errors if it has any, or if the result never comes.
 */
export async function openInChromium(url) {
  const page = await (await chromiumBrowser()).newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: TIMEOUT_MS }).catch((e) => {
      throw new Error(`${url} set no window.result (${e.message}); page errors: ${errors.join("; ")}`);
    });
    if (errors.length > 0) throw new Error(`${url} had uncaught errors: ${errors.join("; ")}`);
    return await page.evaluate(() => window.result);
  } finally {
    await page.close();
  }
}
