// Starting and stopping the real servers the Node tests talk to: the sandbox
// (a local imitation of the API) and the BFF. Each is started on 127.0.0.1
// port 0 and announces its address on stdout; every test file stops what it
// started in an `after()` hook, also when a test fails.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = fileURLToPath(new URL("../../", import.meta.url));
export const sandboxBin = process.env.CONFERBOT_SANDBOX_BIN ?? join(root, "target/debug/conferbot-sandbox");
export const bffBin = process.env.CONFERBOT_BFF_BIN ?? join(root, "target/debug/conferbot-bff");
export const pkgDir = process.env.CONFERBOT_PKG_DIR ?? join(root, "pkg");

/** The built package, imported through its Node entry point. */
export const pkg = await import(pathToFileURL(join(pkgDir, "node.js")).href);

export const STARTER_KEY = "sandbox-starter-key";
export const FREE_KEY = "sandbox-free-key";

/**
 * Starts `bin` and waits for `count` stdout lines like `WORD on http://ADDR`;
 * answers the URLs in order and a `stop()` that kills the process.
 */
async function launch(bin, args, count) {
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => { stderr = (stderr + chunk).slice(-4000); });
  const stop = () => { if (child.exitCode === null) child.kill("SIGKILL"); };
  const urls = await new Promise((resolve, reject) => {
    const found = [];
    let buffer = "";
    const timer = setTimeout(() => fail(new Error(`${bin} did not print its address within 20 s`)), 20_000);
    const fail = (error) => { clearTimeout(timer); stop(); reject(new Error(`${error.message}\n${stderr}`)); };
    child.on("error", fail);
    child.on("exit", (code) => fail(new Error(`${bin} exited (${code}) before printing its address`)));
    child.stdout.on("data", (chunk) => {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        const match = /^\w+ on (http:\/\/\S+)$/.exec(line);
        if (match) found.push(match[1]);
        if (found.length === count) {
          clearTimeout(timer);
          child.removeAllListeners("exit");
          resolve(found);
        }
      }
    });
  });
  child.stdout.resume();
  return { urls, stop };
}

/** The sandbox's admin API at `origin`. */
export function sandboxAdmin(origin) {
  const call = async (method, path, body) => {
    const response = await fetch(`${origin}/sandbox/${path}`, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!response.ok) throw new Error(`${method} /sandbox/${path}: ${response.status} ${await response.text()}`);
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  };
  return {
    origin,
    fault: (spec) => call("POST", "faults", spec),
    clearFaults: () => call("DELETE", "faults"),
    stats: () => call("GET", "stats"),
    reset: () => call("POST", "reset"),
    /** Something happens (default: a new response); webhooks are sent the event. */
    simulate: (body = {}) => call("POST", "responses", body),
    deliveries: async () => (await call("GET", "deliveries")).data,
  };
}

/** A sandbox with `args` (default rate 1000/1s): `{ origin, api, admin, stop }`. */
export async function startSandbox(args = ["--rate", "1000/1s"]) {
  const { urls, stop } = await launch(sandboxBin, ["--listen", "127.0.0.1:0", ...args], 1);
  return { origin: urls[0], api: `${urls[0]}/api/v1`, admin: sandboxAdmin(urls[0]), stop };
}

/**
 * A BFF with its embedded sandbox, fast limits (`--rate 1000/1s` unless
 * `args` says its own `--rate`): `{ origin, api, admin, stop }`.
 */
export async function startBff(args = []) {
  const rate = args.includes("--rate") ? [] : ["--rate", "1000/1s"];
  const { urls, stop } = await launch(
    bffBin,
    ["--sandbox", "--sandbox-rate", "1000/1s", ...rate, "--listen", "127.0.0.1:0", ...args],
    2,
  );
  // With its embedded sandbox, the BFF registers its own webhook receiver as
  // soon as it listens (an API call of its own): wait for it here, so that it
  // does not land in the middle of a test that counts calls.
  const webhooks = `${urls[1]}/api/v1/external/v1/webhooks`;
  const registered = async () => {
    const response = await fetch(webhooks, { headers: { "x-api-key": STARTER_KEY } });
    return response.ok && (await response.json()).data.length > 0;
  };
  for (const deadline = Date.now() + 20_000; !(await registered()); ) {
    if (Date.now() > deadline) {
      stop();
      throw new Error("the BFF did not register its webhook receiver within 20 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { origin: urls[0], api: `${urls[0]}/api/conferbot`, admin: sandboxAdmin(urls[1]), stop };
}

/**
 * The two ways to reach the API, each with a client factory and the admin API
 * of the sandbox behind it: direct (key, sandbox) and proxy (no key, BFF).
 */
export const MODES = {
  direct: async () => {
    const sandbox = await startSandbox();
    return { ...sandbox, options: { apiKey: STARTER_KEY, baseUrl: sandbox.api } };
  },
  proxy: async () => {
    const bff = await startBff();
    return { ...bff, options: { baseUrl: bff.api } };
  },
};

/** Awaits `promise`, which must reject with a ConferbotError; answers it. */
export async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof pkg.ConferbotError)) throw error;
    return error;
  }
  throw new Error("expected the call to reject");
}
