// Running the `conferbot` command line the way users do: the packed package
// installed into a fresh project, its bin run as a child process (stdin
// closed, stdout and stderr piped unless a test wants a terminal). Plus the
// sandbox's data read over plain HTTP, as the truth the CLI's output must
// equal.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { installPackedPackage } from "./install.js";

/** The sandbox flags of the big workspace: ≥ 5,000 responses with tricky answers. */
export const BIG_WORKSPACE = ["--chatbots", "44", "--max-responses", "300", "--tricky-answers"];

/** The package installed once per test file, and a scratch folder for outputs. */
export function cliFixture() {
  const installed = installPackedPackage();
  const work = mkdtempSync(join(tmpdir(), "conferbot-cli-"));
  return {
    bin: join(installed.dir, "node_modules", ".bin", "conferbot"),
    work,
    path: (name) => join(work, name),
    cleanup: () => {
      installed.cleanup();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** The environment of a run: nothing of the caller's CONFERBOT_* leaks in. */
function environment(env) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("CONFERBOT_")));
  return { ...clean, ...env };
}

/**
 * Starts `bin args…`; `done` resolves `{ code, signal, stdout, stderr }`.
 * Every run is bounded: it is killed after `timeoutMs`.
 */
export function startCli(bin, args, { env = {}, cwd, timeoutMs = 60_000 } = {}) {
  const child = spawn(bin, args, { cwd, env: environment(env), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => { stdout += chunk; });
  child.stderr.setEncoding("utf8").on("data", (chunk) => { stderr += chunk; });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const done = new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

/** Runs `bin args…` to its end. */
export function runCli(bin, args, options) {
  return startCli(bin, args, options).done;
}

/** Resolves once `path` exists, or `false` if `child` ended first. */
export async function whenExists(path, child) {
  while (!existsSync(path)) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

/** `text` as one word of a POSIX shell line. */
export function shellQuote(text) {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

/** The lines of a JSONL file, parsed. */
export function readJsonl(path) {
  return readFileSync(path, "utf8").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

/** The JSON lines of a non-terminal stderr (progress), parsed; other lines skipped. */
export function jsonLines(stderr) {
  return stderr.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}

/**
 * The workspace of `key` as the sandbox serves it, read page by page over
 * plain HTTP (not through the client): chatbots in API order, and for each
 * the responses in API order. `pages` counts the calls each list needs at
 * `limit` a page. A 429 is waited out as its Retry-After says.
 */
export async function sandboxData(api, key, limit = 100) {
  const get = async (path) => {
    let response = await fetch(`${api}/external/v1${path}`, { headers: { "x-api-key": key } });
    // A rate-limited sandbox: wait as it says (a few times at most).
    for (let tries = 0; response.status === 429 && tries < 5; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get("retry-after")) * 1000));
      response = await fetch(`${api}/external/v1${path}`, { headers: { "x-api-key": key } });
    }
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const all = async (path) => {
    const items = [];
    let pages = 0;
    for (let page = 1; ; page += 1) {
      const answer = await get(`${path}?page=${page}&limit=${limit}`);
      pages += 1;
      items.push(...answer.data);
      if (answer.data.length === 0 || page >= answer.totalPages) return { items, pages };
    }
  };
  const chatbots = await all("/chatbots");
  const responses = [];
  let responsePages = 0;
  for (const bot of chatbots.items) {
    const list = await all(`/chatbots/${bot.id}/responses`);
    responses.push(...list.items);
    responsePages += list.pages;
  }
  return { chatbots: chatbots.items, chatbotPages: chatbots.pages, responses, responsePages };
}
