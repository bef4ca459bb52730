// The export's forecast and its stops, with the Starter key (10,000 calls a
// month) of the sandbox's default workspace: it refuses when the month has
// too few calls left (and spends almost nothing finding out), --yes overrides
// (the month runs out mid-export: exit 1, resumable next month), --max-calls
// stops cleanly with a resumable checkpoint; --resume refuses a checkpoint of
// another export, and a fresh export refuses to overwrite without --force.
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { after, before, describe, test } from "node:test";

import { cliFixture, jsonLines, runCli, sandboxData } from "./cli-support.js";
import { STARTER_KEY, startSandbox } from "./servers.js";

describe("conferbot export: forecast, --yes, --max-calls", () => {
  let cli;
  let sandbox;
  let truth;
  let env;
  before(async () => {
    cli = cliFixture();
    sandbox = await startSandbox(["--rate", "100000/1s"]);
    truth = await sandboxData(sandbox.api, STARTER_KEY);
    env = { CONFERBOT_API_KEY: STARTER_KEY, CONFERBOT_BASE_URL: sandbox.api };
  });
  after(() => {
    sandbox?.stop();
    cli?.cleanup();
  });
  const setUsed = async (used) => {
    const response = await fetch(`${sandbox.origin}/sandbox/usage`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ apiKey: STARTER_KEY, used }),
    });
    assert.equal(response.status, 200);
  };
  const calls = async () => (await sandbox.admin.stats()).apiCalls;
  const exportTo = (name, ...args) => runCli(cli.bin, ["export", "responses", "--out", cli.path(name), ...args], { env });
  const leftovers = (name) => ["", ".partial", ".checkpoint.json"].filter((suffix) => existsSync(cli.path(name + suffix)));

  test("with calls to spare it starts by itself, after saying what it needs", async () => {
    await setUsed(0);
    const run = await exportTo("baseline.jsonl");
    assert.equal(run.code, 0, run.stderr);
    const forecast = jsonLines(run.stderr).find((line) => line.type === "forecast");
    assert.equal(forecast.callsNeeded, truth.responsePages);
    assert.equal(forecast.plan, "Starter");
    assert.equal(forecast.remaining, 10_000 - 1 - truth.chatbotPages, "usage counts itself, then the chatbot pages");
    assert.equal(forecast.affordable, true);
  });

  test("refuses when the month has fewer calls left than needed: nothing written, two calls spent", async () => {
    await setUsed(9_990);
    const before = await calls();
    const run = await exportTo("refused.jsonl");
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /refusing to start: this needs at least [\d,]+ calls and the month has 8 left\. --yes starts anyway/);
    assert.equal((await calls()) - before, 2, "usage and the first page of chatbots, no more");
    assert.deepEqual(leftovers("refused.jsonl"), []);
  });

  test("--yes overrides: the month runs out mid-export (exit 1, rate_limited), and --resume finishes it byte for byte", async () => {
    await setUsed(9_950);
    const run = await exportTo("yes.jsonl", "--yes");
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /error: rate_limited \(HTTP 429\): Monthly API limit reached/);
    assert.match(run.stderr, /are saved; to go on: conferbot export responses --out \S+ --resume/);
    assert.deepEqual(leftovers("yes.jsonl"), [".partial", ".checkpoint.json"]);
    assert.ok(statSync(cli.path("yes.jsonl.partial")).size > 0, "what the month allowed is saved");
    await setUsed(0);
    const resumed = await exportTo("yes.jsonl", "--resume");
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(readFileSync(cli.path("yes.jsonl")).equals(readFileSync(cli.path("baseline.jsonl"))));
  });

  test("--max-calls stops cleanly (exit 3) with a resumable checkpoint, and spends exactly what it says", async () => {
    await setUsed(0);
    const before = await calls();
    const run = await exportTo("capped.jsonl", "--max-calls", "5");
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /stopped after --max-calls 5: [\d,]+ responses saved, about [\d,]+ calls to go/);
    assert.equal((await calls()) - before, 1 + truth.chatbotPages + 5);
    const checkpoint = JSON.parse(readFileSync(cli.path("capped.jsonl.checkpoint.json"), "utf8"));
    assert.equal(checkpoint.pages, 5);
    assert.equal(checkpoint.bytes, statSync(cli.path("capped.jsonl.partial")).size);
    const again = await exportTo("capped.jsonl", "--resume", "--max-calls", "50");
    assert.equal(again.code, 3, again.stderr);
    const done = await exportTo("capped.jsonl", "--resume");
    assert.equal(done.code, 0, done.stderr);
    assert.ok(readFileSync(cli.path("capped.jsonl")).equals(readFileSync(cli.path("baseline.jsonl"))));
  });

  test("--resume refuses a checkpoint of another export; a fresh export refuses to overwrite without --force", async () => {
    await setUsed(0);
    assert.equal((await exportTo("other.jsonl", "--max-calls", "1")).code, 3);
    for (const [args, says] of [
      [["--resume", "--format", "csv"], /the checkpoint is of a --format jsonl export/],
      [["--resume", "--limit", "50"], /the checkpoint is of an export with --limit 100/],
      [[], /was interrupted: --resume goes on with it, --force starts over/],
    ]) {
      const run = await exportTo("other.jsonl", ...args);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, says);
    }
    const wrongKind = await runCli(cli.bin, ["export", "chatbots", "--out", cli.path("other.jsonl"), "--resume"], { env });
    assert.equal(wrongKind.code, 2);
    assert.match(wrongKind.stderr, /the checkpoint is of `export responses`, not `export chatbots`/);
    const nothing = await exportTo("never.jsonl", "--resume");
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /nothing to resume/);
    const existing = await exportTo("baseline.jsonl");
    assert.equal(existing.code, 2);
    assert.match(existing.stderr, /exists: --force replaces it/);
    const forced = await exportTo("other.jsonl", "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok(readFileSync(cli.path("other.jsonl")).equals(readFileSync(cli.path("baseline.jsonl"))));
  });
});
