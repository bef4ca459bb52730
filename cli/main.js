// `conferbot`: the Conferbot External API from the command line, on the
// package's own ConferbotClient (its checks, retries and errors). Reads for
// people and pipes, and exports with a quota forecast, progress and resume.
//
// # Layout
// - `main.js`: the program (commander), and the exit code of every ending.
// - `reads.js`: chatbots, responses, usage, webhooks.
// - `export/`: `command` (options), `run` (start to end), `settings`
//   (checks, checkpoint compatibility), `survey` and `forecast`, `pages` (the
//   loop), `files` (durable appends, atomic writes), `checkpoint`, `publish`.
// - `output/`: formats of stdout (`formats`), CSV rows (`csv`), tables (`table`).
// - `progress.js`, `stop.js` (SIGINT/SIGTERM), `connection.js` (the client),
//   `failure.js` (exit codes, messages), `arguments.js`, `words.js`.
import { readFileSync } from "node:fs";

import { Command, Option } from "commander";

import { EXIT, exitCodeOf } from "./failure.js";
import { registerExport } from "./export/command.js";
import { registerReads } from "./reads.js";

/** The package's version, from the package.json beside the bundle. */
function version() {
  try {
    return JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")).version;
  } catch {
    return "unknown";
  }
}

/** Wraps a command's handler: its failures end the process with their exit code. */
function action(handler) {
  return async (...args) => {
    const command = args.at(-1);
    try {
      await handler(...args);
    } catch (error) {
      process.exitCode = exitCodeOf(error, command);
    }
  };
}

const program = new Command("conferbot")
  .description(
    "The Conferbot External API from the command line. Direct mode with CONFERBOT_API_KEY, or through any base URL that speaks the API (a conferbot BFF, the sandbox) with --base-url / CONFERBOT_BASE_URL.",
  )
  .version(version())
  .addOption(new Option("--base-url <url>", "the API's base URL (a BFF: http://localhost:8787/api/conferbot)").env("CONFERBOT_BASE_URL"))
  .showHelpAfterError()
  .exitOverride()
  .configureHelp({ showGlobalOptions: true });
registerReads(program, action);
registerExport(program, action);
// Every command reports usage errors itself (exit 2), with its help.
for (const command of allCommands(program)) command.exitOverride().showHelpAfterError();

function allCommands(command) {
  return command.commands.flatMap((child) => [child, ...allCommands(child)]);
}

// `conferbot … | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(EXIT.ok);
  throw error;
});

try {
  if (process.argv.length <= 2) {
    program.outputHelp({ error: true });
    process.exitCode = EXIT.usage;
  } else {
    await program.parseAsync(process.argv);
  }
} catch (error) {
  process.exitCode = exitCodeOf(error);
}
// Idle keep-alive connections must not hold the process open.
process.exit(process.exitCode ?? EXIT.ok);
