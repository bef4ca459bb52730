// The command line as people and pipes see it, from the installed bin:
// - under a pseudo-terminal (`script` from util-linux) the export's progress
//   bar is drawn on stderr, with "waiting N s for the rate limit" while the
//   client waits out a 429, and reads print tables;
// - piped, stdout carries only records (jsonl by default) and stderr nothing;
// - bad input is a usage error (exit 2) with the command's --help, found
//   before any request; API errors exit 1 with their kind and message;
// - webhooks are created, listed and deleted.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";

import { parse } from "csv-parse/sync";

import { cliFixture, jsonLines, readJsonl, runCli, sandboxData, shellQuote } from "./cli-support.js";
import { FREE_KEY, STARTER_KEY, startSandbox } from "./servers.js";

/**
 * Runs `command` (a shell line) under `script`, a pseudo-terminal; answers
 * what the terminal showed and the exit code. stdin is closed, as in CI.
 */
function underTerminal(command, env) {
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let screen = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => { screen += chunk; });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

describe("conferbot at a terminal and in pipes", () => {
  let cli;
  let sandbox;
  let limited;
  let truth;
  let env;
  before(async () => {
    execFileSync("script", ["--version"]);
    cli = cliFixture();
    [sandbox, limited] = await Promise.all([
      startSandbox(["--rate", "100000/1s"]),
      startSandbox(["--rate", "20/2s", "--chatbots", "12", "--max-responses", "100"]),
    ]);
    truth = await sandboxData(sandbox.api, STARTER_KEY);
    env = { CONFERBOT_API_KEY: STARTER_KEY, CONFERBOT_BASE_URL: sandbox.api };
  });
  after(() => {
    sandbox?.stop();
    limited?.stop();
    cli?.cleanup();
  });
  const cliRun = (args, extra = {}) => runCli(cli.bin, args, { env: { ...env, ...extra } });
  const apiCalls = async () => (await sandbox.admin.stats()).apiCalls;

  test("a pseudo-terminal gets the progress bar on stderr, with the rate limit's wait; FILE gets the records", async () => {
    const out = cli.path("tty.jsonl");
    const base = `${shellQuote(cli.bin)} export responses --out ${shellQuote(out)} --limit 20`;
    const limitedEnv = { CONFERBOT_API_KEY: STARTER_KEY, CONFERBOT_BASE_URL: limited.api };
    const shown = await underTerminal(`${base} > ${shellQuote(cli.path("tty.stdout"))}`, limitedEnv);
    assert.equal(shown.code, 0, shown.screen);
    assert.match(shown.screen, /█+░*\s+\d+% \| [\d,]+\/[\d,]+ responses \| pages \d+\/\d+ \| calls \d+ \| ETA /, "the bar");
    assert.match(shown.screen, /\| waiting \d+ s for the rate limit/, "the wait for the 429");
    assert.match(shown.screen, /\r|\x1b\[1G/, "redrawn in place");
    assert.match(shown.screen, /forecast: [\d,]+ API calls for/);
    assert.equal(readFileSync(cli.path("tty.stdout"), "utf8"), "", "nothing on stdout");
    const limitedTruth = await sandboxData(limited.api, STARTER_KEY, 100);
    assert.deepEqual(readJsonl(out), limitedTruth.responses);
    // The same export with stderr sent away: the terminal shows nothing, so the bar was on stderr.
    const silent = await underTerminal(`${base} --force 2> /dev/null`, limitedEnv);
    assert.equal(silent.code, 0);
    assert.doesNotMatch(silent.screen, /pages \d+\/\d+|forecast/);
  });

  test("a pseudo-terminal gets a table from a read, and a hint about the next page", async () => {
    const shown = await underTerminal(`${shellQuote(cli.bin)} chatbots --limit 5`, env);
    assert.equal(shown.code, 0, shown.screen);
    const lines = shown.screen.split(/\r?\n/);
    assert.match(lines[0], /^id\s+name\s+status\s+responses\s+created\s+updated$/);
    for (const bot of truth.chatbots.slice(0, 5)) assert.ok(shown.screen.includes(`${bot.id}  ${bot.name}`), bot.name);
    assert.match(shown.screen, /page 1 of 28 \(137 chatbots\): --page 2 for the next, --all for every page/);
  });

  test("piped, stdout carries only records: jsonl by default, csv and json when asked", async () => {
    const all = await cliRun(["chatbots", "--all", "--limit", "50"]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stderr, "");
    assert.deepEqual(all.stdout.trimEnd().split("\n").map((line) => JSON.parse(line)), truth.chatbots);
    const bot = truth.chatbots.find((b) => b.responseCount > 20);
    const csv = await cliRun(["responses", bot.id, "--all", "--format", "csv"]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(parse(csv.stdout, { columns: true }).length, bot.responseCount);
    const usage = await cliRun(["usage", "--format", "json"]);
    assert.equal(JSON.parse(usage.stdout).plan, "Starter");
    const exported = await cliRun(["export", "chatbots", "--out", cli.path("piped.jsonl")]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stdout, "");
    const progress = jsonLines(exported.stderr);
    assert.deepEqual(
      [...new Set(progress.map((line) => line.type))],
      ["forecast", "progress", "done", "summary"],
      "stderr: JSON lines for programs",
    );
  });

  test("bad input: exit 2 with the command's help, before any request", async () => {
    const before = await apiCalls();
    const out = cli.path("never.jsonl");
    for (const [args, says, help] of [
      [["responses", "nope"], /chatbot id must be 24 hexadecimal digits/, "Usage: conferbot responses"],
      [["chatbots", "--limit", "500"], /limit must be an integer from 1 to 100/, "Usage: conferbot chatbots"],
      [["chatbots", "--page", "0"], /page must be an integer from 1/, "Usage: conferbot chatbots"],
      [["chatbots", "--limit", "abc"], /argument 'abc' is invalid\. not a number/, "Usage: conferbot chatbots"],
      [["export", "responses", "--out", out, "--chatbot", "xyz"], /chatbot id must be 24 hexadecimal digits/, "Usage: conferbot export responses"],
      [["export", "responses", "--out", out, "--limit", "0"], /limit must be an integer from 1 to 100/, "Usage: conferbot export responses"],
      [["export", "responses", "--out", out, "--max-calls", "0"], /must be a whole number from 1/, "Usage: conferbot export responses"],
      [["export", "responses"], /required option '--out <file>' not specified/, "Usage: conferbot export responses"],
      [["export", "chatbots", "--out", "/no/such/folder/x.jsonl"], /the folder \/no\/such\/folder does not exist/, "Usage: conferbot export chatbots"],
      [["webhooks", "create", "--url", "https://hooks.example.com/x", "--event", "bot.deleted"], /bot\.deleted/, "Usage: conferbot webhooks create"],
      [["bogus"], /unknown command 'bogus'/, "Usage: conferbot"],
      [[], /Usage: conferbot/, "Commands:"],
    ]) {
      const run = await cliRun(args);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, says, args.join(" "));
      assert.ok(run.stderr.includes(help), `${args.join(" ")} shows its help`);
      assert.equal(run.stdout, "");
    }
    assert.equal(await apiCalls(), before, "no request was made");
    const nowhere = await runCli(cli.bin, ["usage"], { env: {} });
    assert.equal(nowhere.code, 2);
    assert.match(nowhere.stderr, /set CONFERBOT_API_KEY .* or pass --base-url URL/);
  });

  test("API errors: exit 1 with the kind and the server's message", async () => {
    const free = await cliRun(["usage"], { CONFERBOT_API_KEY: FREE_KEY });
    assert.equal(free.code, 1);
    assert.match(free.stderr, /error: forbidden \(HTTP 403\): API access is not available on the Free plan — Upgrade/);
    const missing = await cliRun(["responses", "000000000000000000000000"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error: not_found \(HTTP 404\): Chatbot not found/);
    const wrongKey = await cliRun(["chatbots"], { CONFERBOT_API_KEY: "sk_wrong" });
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /unauthorized \(HTTP 401\): Invalid or missing API key/);
  });

  test("webhooks: create prints the webhook with its secret, list shows it, delete removes it", async () => {
    const created = await cliRun(["webhooks", "create", "--url", "https://hooks.example.com/cli", "--event", "response.created", "conversation.completed", "--format", "json"]);
    assert.equal(created.code, 0, created.stderr);
    const hook = JSON.parse(created.stdout);
    assert.deepEqual(hook.events, ["response.created", "conversation.completed"]);
    assert.equal(typeof hook.secret, "string");
    const listed = await cliRun(["webhooks", "list"]);
    assert.ok(listed.stdout.trimEnd().split("\n").map((line) => JSON.parse(line)).some((h) => h.id === hook.id));
    const deleted = await cliRun(["webhooks", "delete", hook.id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, "");
    const after = await cliRun(["webhooks", "list", "--format", "json"]);
    assert.ok(!JSON.parse(after.stdout).some((h) => h.id === hook.id));
  });
});
