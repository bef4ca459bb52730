// Exit codes, and how each kind of failure is told on stderr. Every path out
// of the CLI goes through `exitCodeOf`, so the codes are decided in one place.
import { CommanderError } from "commander";

import { ConferbotError } from "conferbot-wasm";

/** The process's exit codes (documented in the package README). */
export const EXIT = Object.freeze({
  /** Done. */
  ok: 0,
  /** An API error: its kind and message are on stderr. */
  api: 1,
  /** A usage error, or bad input found before any request: the command's --help follows. */
  usage: 2,
  /** An export stopped at --max-calls, or refused by its forecast: nothing is wrong, it is resumable. */
  stopped: 3,
  /** Interrupted by SIGINT (128 + 2) after the page in flight. */
  sigint: 130,
  /** Interrupted by SIGTERM (128 + 15) after the page in flight. */
  sigterm: 143,
});

/** Bad input or a command that cannot run as given; `command` is whose --help to show. */
export class UsageError extends Error {
  constructor(message, command, { help = true } = {}) {
    super(message);
    this.name = "UsageError";
    this.command = command;
    this.help = help;
  }
}

/** An ending that is not a failure of the CLI: already told on stderr, exits with `code`. */
export class Ended extends Error {
  constructor(code, message = "") {
    super(message);
    this.name = "Ended";
    this.code = code;
  }
}

/** Writes one line to stderr, prefixed with the program's name. */
export function say(line) {
  process.stderr.write(`conferbot: ${line}\n`);
}

/** The words of an API error: `not_found (HTTP 404): Chatbot not found — detail`. */
export function describeApiError(error) {
  const status = error.status === null ? "" : ` (HTTP ${error.status})`;
  const detail = error.detail ? ` — ${error.detail}` : "";
  return `${error.kind}${status}: ${error.message}${detail}`;
}

/**
 * Tells `error` on stderr and answers the exit code. `command` is the
 * command that was running (for its --help), when known.
 */
export function exitCodeOf(error, command) {
  if (error instanceof Ended) return error.code;
  if (error instanceof CommanderError) {
    // Commander has already printed its message (and the help, see main.js).
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return EXIT.ok;
    return EXIT.usage;
  }
  if (error instanceof UsageError) {
    say(`error: ${error.message}`);
    if (error.help) process.stderr.write(`\n${(error.command ?? command)?.helpInformation() ?? ""}`);
    return EXIT.usage;
  }
  if (error instanceof ConferbotError && error.kind === "invalid_request") {
    // The client refused the input before sending anything.
    say(`error: ${error.message}`);
    if (command) process.stderr.write(`\n${command.helpInformation()}`);
    return EXIT.usage;
  }
  if (error instanceof ConferbotError) {
    say(`error: ${describeApiError(error)}`);
    return EXIT.api;
  }
  say(`error: ${error?.message ?? String(error)}`);
  return EXIT.api;
}
