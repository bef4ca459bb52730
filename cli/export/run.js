// `conferbot export chatbots|responses`, start to end:
// 1. settings and leftovers checked, input checked by the client (no request);
// 2. the forecast: usage, then what to walk (or the checkpoint, on --resume),
//    the calls needed, and a refusal when the month cannot afford them;
// 3. the pages, each appended and checkpointed, with progress on stderr;
// 4. FILE published, or a stop (signal, --max-calls, API error) that says how
//    to go on.
import { ConferbotError } from "conferbot-wasm";

import { connect } from "../connection.js";
import { EXIT, Ended, describeApiError, say } from "../failure.js";
import { createProgress } from "../progress.js";
import { StopOnSignal } from "../stop.js";
import { count, duration } from "../words.js";
import { saveCheckpoint } from "./checkpoint.js";
import { PartialFile, removeIfThere } from "./files.js";
import { callsLeft, forecastLines, forecastOf, refusalOf } from "./forecast.js";
import { countsOf, recordPage, runPages } from "./pages.js";
import { publish } from "./publish.js";
import { DEFAULT_LIMIT, exportSettings, freshPlan, refuseLeftovers, resumablePlan } from "./settings.js";
import { checkInputs, survey } from "./survey.js";

/** Refused by the forecast: said on stderr, exit 3. */
class Refused extends Error {}

/** Runs one export; resolves when done, throws `Ended` (or an error) otherwise. */
export async function runExport(what, opts, command) {
  const settings = exportSettings(what, opts, command);
  const { paths } = settings;
  const client = connect(settings.baseUrl, command);
  const stop = new StopOnSignal();
  const progress = createProgress({ quiet: opts.quiet, noun: what });
  const counter = { calls: 0 };
  const options = {
    signal: stop.abortSignal,
    onRetry: (info) => {
      stop.waiting(info.waitMs);
      progress.waiting(info);
    },
  };
  const call = (send) => {
    counter.calls += 1;
    return send(options);
  };
  const started = Date.now();
  let plan = null;
  let file = null;
  try {
    if (opts.resume) {
      plan = resumablePlan(settings, command);
      if (!plan.complete) {
        file = PartialFile.reopen(paths.partial, plan.bytes);
        if (file.cut > 0) {
          progress.note(
            `repaired ${paths.partial}: cut the ${count(file.cut, "byte")} written after the last checkpoint (a torn last line, or a page whose checkpoint was never saved)`,
            { type: "repaired", cutBytes: file.cut },
          );
        }
      }
    } else {
      refuseLeftovers(settings, opts.force, command);
      await checkInputs(client, { limit: settings.limit ?? DEFAULT_LIMIT, chatbotIds: settings.chatbotIds });
    }

    let first = null;
    if (!plan?.complete) {
      const usage = await call((o) => client.getUsage(o));
      let sinceUsage = 0;
      if (!plan) {
        const counted = (send) => {
          sinceUsage += 1;
          return call(send);
        };
        // After the first page of chatbots: the rest of the list, then at
        // least a page of each chatbot's responses (fewer with --max-calls).
        const atLeast = (listing, chatbots) => {
          const planned = listing + (settings.maxCalls === undefined ? chatbots : Math.min(chatbots, settings.maxCalls));
          const remaining = usage.remaining === null ? null : usage.remaining - sinceUsage;
          const refusal = remaining === null ? null : refusalOf({ affordable: remaining >= planned, callsPlanned: planned, remaining }, opts);
          if (refusal) throw new Refused(refusal.replace("this needs", "this needs at least"));
        };
        const limit = settings.limit ?? DEFAULT_LIMIT;
        const found = await survey(client, what, { limit, chatbotIds: settings.chatbotIds }, counted, atLeast);
        plan = freshPlan(settings, found);
        first = found.first ?? null;
      }
      const forecast = forecastOf(plan, usage, { spent: counter.calls, spentSinceUsage: sinceUsage, maxCalls: settings.maxCalls });
      progress.forecast(forecast, forecastLines(forecast));
      const refusal = refusalOf(forecast, opts);
      if (refusal) throw new Refused(refusal);
    }

    if (!opts.resume) {
      for (const path of [paths.out, paths.partial, paths.checkpoint]) removeIfThere(path);
      file = PartialFile.create(paths.partial);
      saveCheckpoint(paths.checkpoint, plan);
      if (first) {
        plan.calls += 1;
        recordPage(plan, { file, paths }, first.records, first);
      }
    }
    stop.immediate = false;
    const outcome = plan.complete
      ? "complete"
      : await (async () => {
          progress.start({ ...countsOf(plan), calls: counter.calls });
          return runPages(plan, { client, stop, progress, maxCalls: settings.maxCalls, options, counter, file, paths });
        })();
    file?.close();
    file = null;
    if (outcome === "complete") {
      await publish(paths, plan);
      progress.end({ type: "done", file: paths.out });
      progress.note(
        `exported ${count(plan.items, what.slice(0, -1))} to ${paths.out} (${count(counter.calls, "call")} in this run, ${duration((Date.now() - started) / 1000)})`,
        { type: "summary" },
      );
      return;
    }
    if (outcome === "stopped") throw interrupted(stop, plan, settings, progress);
    progress.end({ type: "capped", maxCalls: settings.maxCalls });
    say(`stopped after --max-calls ${settings.maxCalls}: ${count(plan.items, what.slice(0, -1))} saved, about ${count(callsLeft(plan), "call")} to go`);
    say(`to go on: ${settings.resumeCommand}`);
    throw new Ended(EXIT.stopped);
  } catch (error) {
    if (error instanceof Ended) throw error;
    progress.end(null);
    if (error instanceof Refused) {
      say(error.message);
      throw new Ended(EXIT.stopped);
    }
    const saved = plan !== null && (file !== null || opts.resume);
    if (error instanceof ConferbotError && error.kind === "aborted" && stop.requested) {
      if (saved) throw interrupted(stop, plan, settings, progress);
      say(`stopped by ${stop.signal} before the export began: nothing was written`);
      throw new Ended(stop.exitCode);
    }
    if (error instanceof ConferbotError && saved && error.kind !== "invalid_request") {
      say(`error: ${describeApiError(error)}`);
      say(`${count(plan.items, what.slice(0, -1))} are saved; to go on: ${settings.resumeCommand}`);
      throw new Ended(EXIT.api);
    }
    throw error;
  } finally {
    file?.close();
    stop.dispose();
  }
}

function interrupted(stop, plan, settings, progress) {
  progress.end({ type: "stopped", signal: stop.signal });
  say(`stopped by ${stop.signal}: ${count(plan.items, settings.what.slice(0, -1))} saved, about ${count(callsLeft(plan), "call")} to go`);
  say(`to go on: ${settings.resumeCommand}`);
  return new Ended(stop.exitCode);
}
