// Starting and stopping the sandbox and the BFF binaries on 127.0.0.1.
//
// Each server prints `listening on http://ADDR` as its first stdout line (the
// BFF with the embedded sandbox adds `sandbox on http://ADDR`); these helpers
// wait for those lines and keep everything the process prints, so a test can
// show it when something fails (and the key-leak audit can search it).

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: `CONFERBOT_ROOT`, else two folders above this one's parent. */
export const ROOT = process.env.CONFERBOT_ROOT
  ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export const SANDBOX_BIN = process.env.CONFERBOT_SANDBOX_BIN ?? path.join(ROOT, "target", "debug", "conferbot-sandbox");
export const BFF_BIN = process.env.CONFERBOT_BFF_BIN ?? path.join(ROOT, "target", "debug", "conferbot-bff");
/** The npm package the BFF serves at /pkg/ (`cargo xtask dist` builds it). */
export const PKG_DIR = process.env.CONFERBOT_PKG_DIR ?? path.join(ROOT, "pkg");

/** The sandbox's default key for the Starter plan (137 chatbots, 5 webhooks). */
export const STARTER_KEY = "sandbox-starter-key";

/** How long a server may take to print its address before the test gives up (a hang guard, not a timing assertion). */
const START_TIMEOUT_MS = 30_000;

/** Every child still running, killed when this process exits however it exits. */
const running = new Set();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * A running server process.
 * @typedef {object} Server
 * @property {string} url the first line's `http://ADDR`
 * @property {string[]} urls the addresses it announced, in order (the BFF's, then its sandbox's)
 * @property {number} port the first address's port
 * @property {() => string} output everything it printed so far (stdout and stderr)
 * @property {() => Promise<void>} stop stops it and waits until it has exited
 */

/**
 * Starts `bin` and waits until it has printed `addresses` lines
 * `listening on http://…` / `sandbox on http://…`.
 * @param {string} bin
 * @param {string[]} args
 * @param {{env?: Record<string, string>, addresses?: number}} [options]
 * @returns {Promise<Server>}
 */
export async function startServer(bin, args, { env = {}, addresses = 1 } = {}) {
  if (!existsSync(bin)) {
    throw new Error(`${bin} does not exist: build it first (cargo build -p conferbot-sandbox -p conferbot-bff)`);
  }
  const child = spawn(bin, args, {
    cwd: ROOT,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let printed = "";
  /** @type {string[]} */
  const urls = [];
  const exited = new Promise((resolve) => child.once("exit", resolve));
  exited.then(() => running.delete(child));

  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no address within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    /** @param {Error} error */
    const fail = (error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${path.basename(bin)} ${args.join(" ")}: ${error.message}\n--- its output ---\n${printed}`));
    };
    let stdoutLine = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      printed += chunk;
      stdoutLine += chunk;
      let newline;
      while ((newline = stdoutLine.indexOf("\n")) >= 0) {
        const line = stdoutLine.slice(0, newline);
        stdoutLine = stdoutLine.slice(newline + 1);
        const match = /^(?:listening|sandbox) on (http:\/\/\S+)/.exec(line.trim());
        if (match && urls.length < addresses) {
          urls.push(match[1].replace(/\/$/, ""));
          if (urls.length === addresses) {
            clearTimeout(timer);
            resolve(undefined);
          }
        }
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => { printed += chunk; });
    child.once("error", fail);
    child.once("exit", (code, signal) => fail(new Error(`exited early (${signal ?? `code ${code}`})`)));
  });

  return {
    url: urls[0],
    urls,
    port: Number(new URL(urls[0]).port),
    output: () => printed,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const forced = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(forced);
    },
  };
}

/**
 * A standalone sandbox: `conferbot-sandbox --listen 127.0.0.1:PORT [...]`.
 * @param {{port?: number, args?: string[]}} [options] port 0 (the default) picks a free one
 */
export function startSandbox({ port = 0, args = [] } = {}) {
  return startServer(SANDBOX_BIN, ["--listen", `127.0.0.1:${port}`, ...args]);
}

/**
 * Which server `startBff` starts: `conferbot-bff` (the default), or with
 * `CONFERBOT_E2E_SERVER=handler` a Node server around the package's own
 * server half (`tests/node/handler-server.mjs`: Express 5 with
 * `app.use(toNodeListener(h))`, the same flags, the same static files), so
 * the same tests run against both.
 */
export const E2E_SERVER = process.env.CONFERBOT_E2E_SERVER ?? "bff";
const HANDLER_SERVER = path.join(ROOT, "tests", "node", "handler-server.mjs");

/**
 * The BFF serving www/ and pkg/, either on its embedded sandbox (`upstream`
 * absent; then `urls[1]` is the sandbox) or forwarding to `upstream` with `apiKey`.
 * Caching is off unless `cacheTtl` says (e.g. `"5s"`), since most tests
 * change data and read it back at once; `cacheTtl: null` leaves the BFF's
 * own default cache policy (the one users get), for tests that count calls.
 * With `CONFERBOT_E2E_SERVER=handler`, the package's handler in its place.
 * @param {{upstream?: string, apiKey?: string, port?: number, cacheTtl?: string | null, args?: string[]}} [options]
 */
export function startBff({ upstream, apiKey, port = 0, cacheTtl = "0", args = [] } = {}) {
  const common = ["--www", path.join(ROOT, "www"), "--pkg", PKG_DIR,
    "--listen", `127.0.0.1:${port}`, ...(cacheTtl === null ? [] : ["--cache-ttl", cacheTtl])];
  const [bin, lead] = E2E_SERVER === "handler" ? [process.execPath, [HANDLER_SERVER]] : [BFF_BIN, []];
  if (upstream) {
    return startServer(bin, [...lead, ...common, "--upstream", upstream, ...args],
      { env: { CONFERBOT_API_KEY: apiKey ?? STARTER_KEY } });
  }
  return startServer(bin, [...lead, "--sandbox", ...common, ...args], { addresses: 2 });
}

/**
 * Stops every server given, ignoring the ones never started.
 * @param {...(Server | undefined)} servers
 */
export async function stopAll(...servers) {
  await Promise.all(servers.map((s) => s?.stop()));
}

/**
 * The BFF's upstream calls so far, by operation (`listChatbots`…), summed over
 * statuses: read from its `/metrics` (`conferbot_bff_upstream_calls_total`).
 * @param {string} bffUrl
 * @returns {Promise<Record<string, number>>}
 */
export async function upstreamCallsByRoute(bffUrl) {
  const response = await fetch(`${bffUrl}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  /** @type {Record<string, number>} */
  const calls = {};
  for (const line of (await response.text()).split("\n")) {
    const match = /^conferbot_bff_upstream_calls_total\{([^}]*)\}\s+(\d+)/.exec(line);
    const route = match && /route="([^"]+)"/.exec(match[1]);
    if (match && route) calls[route[1]] = (calls[route[1]] ?? 0) + Number(match[2]);
  }
  return calls;
}

/**
 * What changed between two {@link upstreamCallsByRoute} readings, every route named in either.
 * @param {Record<string, number>} before
 * @param {Record<string, number>} after
 */
export function callsBetween(before, after) {
  /** @type {Record<string, number>} */
  const delta = {};
  for (const route of new Set([...Object.keys(before), ...Object.keys(after)])) {
    delta[route] = (after[route] ?? 0) - (before[route] ?? 0);
  }
  return delta;
}
