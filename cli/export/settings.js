// What `export` was asked to do, checked before anything is sent: the output
// path and its folder, flags that exclude each other, repeated ids, files
// left by an earlier export; and on `--resume`, that the checkpoint is one of
// the same export (what, format, page size, chatbots, API).
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

import { shellWord } from "../arguments.js";
import { targetOf } from "../connection.js";
import { UsageError } from "../failure.js";
import { loadCheckpoint } from "./checkpoint.js";
import { exportPaths } from "./files.js";

/** Items per page unless --limit says otherwise: the API's most, for the fewest calls. */
export const DEFAULT_LIMIT = 100;

/** The export's settings from its options; fails with a usage error. */
export function exportSettings(what, opts, command) {
  const paths = exportPaths(resolve(opts.out));
  const folder = dirname(paths.out);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new UsageError(`--out ${opts.out}: the folder ${folder} does not exist`, command);
  }
  if (opts.resume && opts.force) {
    throw new UsageError("--resume goes on with an export and --force starts it over: give one of them", command);
  }
  const chatbotIds = opts.chatbot;
  const seen = new Set();
  for (const id of chatbotIds ?? []) {
    if (seen.has(id.toLowerCase())) throw new UsageError(`--chatbot ${id} is given twice`, command);
    seen.add(id.toLowerCase());
  }
  const program = command.parent?.parent;
  const baseUrl = command.optsWithGlobals().baseUrl;
  const baseFlag = baseUrl && program?.getOptionValueSource("baseUrl") === "cli" ? ` --base-url ${shellWord(baseUrl)}` : "";
  return {
    what,
    paths,
    baseUrl,
    format: opts.format,
    limit: opts.limit,
    chatbotIds,
    maxCalls: opts.maxCalls,
    resumeCommand: `conferbot${baseFlag} export ${what} --out ${shellWord(opts.out)} --resume`,
  };
}

/** Refuses to overwrite a finished FILE or forget an interrupted export, unless --force. */
export function refuseLeftovers({ paths }, force, command) {
  if (force) return;
  const refuse = (message) => {
    throw new UsageError(message, command, { help: false });
  };
  if (existsSync(paths.checkpoint)) refuse(`an export to ${paths.out} was interrupted: --resume goes on with it, --force starts over`);
  if (existsSync(paths.partial)) refuse(`${paths.partial} is there without a checkpoint: --force starts over (and replaces it)`);
  if (existsSync(paths.out)) refuse(`${paths.out} exists: --force replaces it`);
}

/** The plan of the export to resume, checked against what this command line asks for. */
export function resumablePlan(settings, command) {
  const { paths, what } = settings;
  const refuse = (message) => {
    throw new UsageError(message, command, { help: false });
  };
  if (!existsSync(paths.checkpoint)) {
    const done = existsSync(paths.out) ? ` (${paths.out} is there: that export is complete)` : "";
    refuse(`nothing to resume: there is no ${paths.checkpoint}${done}`);
  }
  let plan;
  try {
    plan = loadCheckpoint(paths.checkpoint);
  } catch (error) {
    refuse(`${error.message}; --force starts over`);
  }
  if (plan.what !== what) refuse(`the checkpoint is of \`export ${plan.what}\`, not \`export ${what}\``);
  if (settings.format !== undefined && settings.format !== plan.format) {
    refuse(`the checkpoint is of a --format ${plan.format} export; leave --format out to go on with it`);
  }
  if (settings.limit !== undefined && settings.limit !== plan.limit) {
    refuse(`the checkpoint is of an export with --limit ${plan.limit}; leave --limit out to go on with it`);
  }
  if (settings.chatbotIds !== undefined) {
    const planned = plan.chatbots.map((bot) => bot.id.toLowerCase()).join(",");
    if (settings.chatbotIds.map((id) => id.toLowerCase()).join(",") !== planned) {
      refuse("the checkpoint is of an export of other chatbots; leave --chatbot out to go on with it");
    }
  }
  if (targetOf(settings.baseUrl) !== plan.baseUrl) {
    const then = plan.baseUrl === null ? "the Conferbot API itself (no --base-url)" : `--base-url ${plan.baseUrl}`;
    refuse(`the checkpoint is of an export from ${then}: resume it from the same API`);
  }
  return plan;
}

/** A fresh plan for what the forecast's survey found. */
export function freshPlan(settings, found) {
  const responses = settings.what === "responses";
  return {
    what: settings.what,
    format: settings.format ?? "jsonl",
    limit: settings.limit ?? DEFAULT_LIMIT,
    baseUrl: targetOf(settings.baseUrl),
    ...(responses ? { chatbots: found.chatbots } : {}),
    expected: found.expected,
    next: responses ? { chatbot: 0, page: 1 } : { page: 1 },
    complete: responses && found.chatbots.length === 0,
    bytes: 0,
    items: 0,
    pages: 0,
    calls: 0,
  };
}
