// `conferbot export chatbots | responses`: the options of both, and their help.
import { Option } from "commander";

import { number, positiveInteger } from "../arguments.js";
import { runExport } from "./run.js";

const HELP_AFTER = `
Records go to FILE only (nothing of them to stdout): JSONL, one object per
line in API order, or CSV (a header row; a response's answers one column
each). While it runs they are appended to FILE.partial, with a checkpoint in
FILE.checkpoint.json after each page; FILE appears, whole, at the end.

Before it starts, the export says how many calls it needs, how long they take
at 60 a minute and how many calls the month has left; it refuses when the
month cannot afford them, unless --yes.

Progress goes to stderr: a bar on a terminal, JSON lines otherwise.
SIGINT/SIGTERM stop after the page in flight (exit 130/143); --resume goes
on, and the final FILE is the one an uninterrupted export writes.

Exit codes: 0 done, 1 API error, 2 usage error, 3 stopped at --max-calls or
refused by the forecast (resumable / nothing spent on records), 130/143
stopped by SIGINT/SIGTERM.`;

/** Registers `export` and its two subcommands on `program`; `action` wraps each handler. */
export function registerExport(program, action) {
  const exporting = program
    .command("export")
    .description("export every chatbot, or every response, into a file: with a forecast, progress and resume");
  for (const what of ["chatbots", "responses"]) {
    const command = exporting
      .command(what)
      .description(what === "chatbots" ? "every chatbot of the workspace" : "every response of every chatbot (or of --chatbot …)")
      .requiredOption("--out <file>", "the file to write")
      .addOption(new Option("--format <format>", "jsonl (default) or csv").choices(["jsonl", "csv"]))
      .option("--limit <n>", "items per page, 1 to 100 (default 100: the fewest calls)", number);
    if (what === "responses") {
      command.option("--chatbot <id...>", "only these chatbots, in this order (default: every chatbot, in API order)");
    }
    command
      .option("--yes", "start even when the forecast says the month cannot afford it")
      .option("--max-calls <n>", "make at most N calls after the forecast, then stop (resumable)", positiveInteger)
      .option("--resume", "go on with the interrupted export to --out FILE")
      .option("--force", "start over: replace FILE and forget an interrupted export to it")
      .option("--quiet", "no forecast, progress or summary on stderr (errors and how to resume still)")
      .addHelpText("after", HELP_AFTER)
      .action(action((opts, cmd) => runExport(what, opts, cmd)));
  }
}
