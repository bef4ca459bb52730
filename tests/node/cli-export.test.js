// `conferbot export` of a workspace with more than 5,000 responses whose
// answers hold commas, quotes and line breaks (the sandbox's
// --tricky-answers), run from the installed package's bin:
// - the export equals the sandbox's data read over plain HTTP (ids, order,
//   count, whole records), with exactly the fewest calls;
// - the CSV parses back with csv-parse to the same records;
// - interrupted at random points by SIGINT, SIGTERM and SIGKILL (three times
//   each, and once with a torn last line), then --resume: byte-identical;
// - sandbox faults mid-export (429 with Retry-After, a 500, a dropped
//   connection): it completes, and its progress shows each wait.
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { after, before, describe, test } from "node:test";

import { parse } from "csv-parse/sync";

import { BIG_WORKSPACE, cliFixture, jsonLines, readJsonl, runCli, sandboxData, startCli, whenExists } from "./cli-support.js";
import { startSandbox } from "./servers.js";

const KEY = "sandbox-enterprise-key";

/** A CSV cell as the package README documents it. */
function cell(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe("conferbot export, 5,000+ responses", () => {
  let cli;
  let sandbox;
  let truth;
  let env;
  before(async () => {
    cli = cliFixture();
    sandbox = await startSandbox(["--rate", "100000/1s", ...BIG_WORKSPACE]);
    truth = await sandboxData(sandbox.api, KEY);
    env = { CONFERBOT_API_KEY: KEY, CONFERBOT_BASE_URL: sandbox.api };
  });
  after(() => {
    sandbox?.stop();
    cli?.cleanup();
  });
  const exportTo = (name, ...args) => runCli(cli.bin, ["export", "responses", "--out", cli.path(name), ...args], { env });

  test("the workspace is big and tricky enough to mean something", () => {
    assert.ok(truth.responses.length >= 5000, `${truth.responses.length} responses`);
    assert.ok(truth.responsePages > truth.chatbots.length, "some chatbots have several pages");
    const texts = truth.responses.flatMap((r) => Object.values(r.answers)).filter((v) => typeof v === "string");
    for (const needle of [",", '"', "\n", "\r\n"]) assert.ok(texts.some((t) => t.includes(needle)), JSON.stringify(needle));
  });

  test("JSONL: the sandbox's responses exactly, in API order, each with its chatbotId, in the fewest calls", async () => {
    const before = (await sandbox.admin.stats()).apiCalls;
    const run = await exportTo("all.jsonl");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "", "nothing of the records on stdout");
    const calls = (await sandbox.admin.stats()).apiCalls - before;
    assert.equal(calls, 1 + truth.chatbotPages + truth.responsePages, "usage + pages of chatbots + Σ pages of responses");
    const records = readJsonl(cli.path("all.jsonl"));
    assert.equal(records.length, truth.responses.length);
    assert.deepEqual(records.map((r) => r.id), truth.responses.map((r) => r.id));
    assert.deepEqual(records, truth.responses);
    const order = truth.chatbots.map((bot) => bot.id);
    let last = 0;
    for (const record of records) {
      const at = order.indexOf(record.chatbotId);
      assert.ok(at >= last, "chatbots in API order, each response with its chatbotId");
      last = at;
    }
    for (const leftover of [".partial", ".checkpoint.json"]) assert.ok(!existsSync(cli.path(`all.jsonl${leftover}`)), leftover);
    const forecast = jsonLines(run.stderr).find((line) => line.type === "forecast");
    assert.equal(forecast.callsNeeded, truth.responsePages, "the forecast's estimate");
    assert.equal(forecast.callsSpent, 1 + truth.chatbotPages);
  });

  test("JSONL: export chatbots is the chatbot list", async () => {
    const run = await runCli(cli.bin, ["export", "chatbots", "--out", cli.path("bots.jsonl"), "--limit", "7"], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(readJsonl(cli.path("bots.jsonl")), truth.chatbots);
  });

  test("CSV: csv-parse reads back the same records, commas, quotes and line breaks intact", async () => {
    const run = await exportTo("all.csv", "--format", "csv");
    assert.equal(run.code, 0, run.stderr);
    const text = readFileSync(cli.path("all.csv"), "utf8");
    assert.ok(text.endsWith("\r\n"), "RFC 4180 record ends");
    const [header, ...rows] = parse(text, { bom: false, relax_column_count: false });
    assert.equal(rows.length, truth.responses.length);
    const answerNames = new Set(truth.responses.flatMap((r) => Object.keys(r.answers)));
    assert.deepEqual(
      new Set(header.filter((h) => h.startsWith("answers.")).map((h) => h.slice("answers.".length))),
      answerNames,
      "one column per answer name",
    );
    assert.ok(header.includes("answers.Comments, if any") && header.includes('answers.Your "nickname"'));
    truth.responses.forEach((record, i) => {
      const expected = header.map((name) =>
        name.startsWith("answers.") ? cell(record.answers[name.slice("answers.".length)]) : cell(record[name]),
      );
      assert.deepEqual(rows[i], expected, `row ${i + 1}`);
    });
    const cells = rows.flat();
    for (const needle of [",", '"', "\n", "\r\n"]) assert.ok(cells.some((c) => c.includes(needle)), JSON.stringify(needle));
  });

  for (const [signal, format, code] of [["SIGINT", "jsonl", 130], ["SIGTERM", "csv", 143], ["SIGKILL", "jsonl", null]]) {
    test(`${signal} at three random points, then --resume: byte-identical (${format})`, async (t) => {
      const out = cli.path(`${signal}.${format}`);
      const checkpoint = `${out}.checkpoint.json`;
      const args = ["export", "responses", "--out", out, "--format", format];
      // Every API call answers 25 ms late, so the whole export takes seconds
      // and a signal up to 400 ms after a checkpoint always finds pages left
      // (on an idle machine an unslowed export can finish first).
      await sandbox.admin.fault({ kind: "delay", count: 1_000_000, delayMs: 25 });
      t.after(() => sandbox.admin.clearFaults());
      for (let round = 0; round < 3; round += 1) {
        const resuming = round > 0;
        const mark = resuming ? statSync(checkpoint).mtimeMs : 0;
        const run = startCli(cli.bin, resuming ? [...args, "--resume"] : args, { env });
        // Once this run has saved its own checkpoint (a fresh run's first, a
        // resumed run's first page), at a random moment after.
        for (;;) {
          assert.ok(await whenExists(checkpoint, run.child), "the run saved a checkpoint");
          if (statSync(checkpoint).mtimeMs > mark) break;
          await pause(5);
        }
        const delay = Math.floor(Math.random() * 400);
        t.diagnostic(`round ${round + 1}: ${signal} ${delay} ms after its checkpoint changed`);
        await pause(delay);
        run.child.kill(signal);
        const result = await run.done;
        if (code === null) {
          assert.equal(result.signal, "SIGKILL");
        } else {
          assert.equal(result.code, code, result.stderr);
          assert.match(result.stderr, new RegExp(`stopped by ${signal}`));
          assert.match(result.stderr, /to go on: conferbot export responses --out \S+ --resume/);
        }
        assert.ok(!existsSync(out), "FILE appears only when complete");
        if (signal === "SIGKILL" && round === 2) {
          // What a kill in the middle of appending a page leaves: half a line.
          appendFileSync(`${out}.partial`, '{"id":"6776fcb915eec837d8a76b77","chatbotId":"676b62');
        }
      }
      const last = await runCli(cli.bin, [...args, "--resume"], { env });
      assert.equal(last.code, 0, last.stderr);
      if (signal === "SIGKILL") assert.match(last.stderr, /"type":"repaired","cutBytes":\d+/, "the torn line was cut");
      const baseline = readFileSync(cli.path(format === "csv" ? "all.csv" : "all.jsonl"));
      assert.ok(readFileSync(out).equals(baseline), "the same bytes as the uninterrupted export");
      assert.ok(!existsSync(checkpoint) && !existsSync(`${out}.partial`), "no leftovers");
    });
  }

  test("faults mid-export (429 with Retry-After, a 500, a dropped connection): complete, and each wait shown", async () => {
    const limited = await startSandbox(["--rate", "40/2s", ...BIG_WORKSPACE]);
    try {
      const out = cli.path("faults.jsonl");
      const run = startCli(cli.bin, ["export", "responses", "--out", out], {
        env: { CONFERBOT_API_KEY: KEY, CONFERBOT_BASE_URL: limited.api },
      });
      assert.ok(await whenExists(`${out}.checkpoint.json`, run.child));
      await limited.admin.fault({ kind: "status500", count: 1 });
      await limited.admin.fault({ kind: "drop", count: 1 });
      const result = await run.done;
      assert.equal(result.code, 0, result.stderr);
      assert.ok(readFileSync(out).equals(readFileSync(cli.path("all.jsonl"))), "the same export as without faults");
      const waits = jsonLines(result.stderr).filter((line) => line.type === "wait");
      const kinds = new Set(waits.map((w) => w.kind));
      for (const kind of ["rate_limited", "server", "network"]) assert.ok(kinds.has(kind), `a wait for ${kind}: ${JSON.stringify(waits)}`);
      const limit = waits.find((w) => w.kind === "rate_limited");
      assert.ok(limit.seconds >= 1 && limit.reason === "the rate limit", JSON.stringify(limit));
      assert.equal(waits.find((w) => w.kind === "server").status, 500);
      const stats = await limited.admin.stats();
      assert.ok(stats.rateLimited >= 1, "the sandbox refused with 429");
      assert.equal(stats.dropped, 1);
      assert.equal(stats.byStatus["500"], 1);
    } finally {
      limited.stop();
    }
  });
});
