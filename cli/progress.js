// Progress of an export, on stderr only (stdout and the output file carry
// records and nothing else):
// - stderr is a terminal: a bar (cli-progress) with items and pages done of
//   the total, calls used, the ETA, and "waiting 23 s for the rate limit"
//   counting down while the client waits to retry;
// - stderr is not a terminal: one JSON object per line, `{"type": "progress", …}`
//   every few seconds, `{"type": "wait", …}` as soon as a wait starts, and
//   `{"type": "forecast" | "done", …}` around them;
// - `--quiet`: nothing.
import cliProgress from "cli-progress";

import { say } from "./failure.js";
import { duration, thousands } from "./words.js";

/** How often a JSON progress line is written. */
const JSON_EVERY_MS = 2_000;
/** The ETA follows the pace of this last stretch of time. */
const PACE_WINDOW_MS = 60_000;

/** What a wait is for, in the words of the bar. */
export function waitReason(error) {
  switch (error?.kind) {
    case "rate_limited":
      return "for the rate limit";
    case "server":
      return `to retry after a server error${error.status ? ` (HTTP ${error.status})` : ""}`;
    case "network":
      return "to retry after a network error";
    case "timeout":
      return "to retry after a timeout";
    default:
      return `to retry (${error?.kind ?? "error"})`;
  }
}

/** The progress display for `quiet` and the kind of stderr this process has. */
export function createProgress({ quiet, noun }) {
  if (quiet) return new SilentProgress();
  return process.stderr.isTTY ? new BarProgress(noun) : new JsonProgress(noun);
}

/**
 * Counts shared by every display: `items`/`itemsTotal` (records),
 * `pages`/`pagesTotal`, `calls` (made by this run) and `retries`.
 */
class Counts {
  constructor() {
    this.state = { items: 0, itemsTotal: 0, pages: 0, pagesTotal: 0, calls: 0, retries: 0 };
    this.startedAt = Date.now();
    this.pageTimes = [];
    this.wait = null;
  }

  set(state) {
    if (state.pages !== undefined && state.pages > this.state.pages) this.pageTimes.push(Date.now());
    Object.assign(this.state, state);
  }

  /**
   * Seconds left, at the pace of the last minute (waits included, so that a
   * burst before the first 429 does not promise too much); before two pages
   * are in, one call a second (60 a minute).
   */
  etaSeconds() {
    const left = Math.max(0, this.state.pagesTotal - this.state.pages);
    const now = Date.now();
    const from = Math.max(this.startedAt, now - PACE_WINDOW_MS);
    this.pageTimes = this.pageTimes.filter((t) => t >= from);
    if (this.pageTimes.length < 2) return left;
    return Math.round((((now - from) / 1000) * left) / this.pageTimes.length);
  }
}

class SilentProgress extends Counts {
  forecast() {}
  note() {}
  start(state) {
    this.set(state);
  }
  update(state) {
    this.set(state);
  }
  waiting() {}
  end() {}
}

class JsonProgress extends Counts {
  constructor(noun) {
    super();
    this.noun = noun;
    this.timer = null;
  }

  line(object) {
    process.stderr.write(`${JSON.stringify(object)}\n`);
  }

  /** The forecast, as an object (`lines` are for people). */
  forecast(forecast) {
    this.line({ type: "forecast", ...forecast });
  }

  /** Something worth knowing, such as a repaired file: `event` says it for programs. */
  note(text, event) {
    this.line({ ...event, message: text });
  }

  start(state) {
    this.set(state);
    this.startedAt = Date.now();
    this.pageTimes = [];
    this.progressLine();
    this.timer = setInterval(() => this.progressLine(), JSON_EVERY_MS);
    this.timer.unref();
  }

  update(state) {
    this.set(state);
    this.wait = null;
  }

  waiting({ waitMs, error, attempt }) {
    this.state.retries += 1;
    this.line({
      type: "wait",
      seconds: Math.ceil(waitMs / 1000),
      waitMs,
      reason: waitReason(error).replace(/^(for|to) /, ""),
      kind: error?.kind ?? null,
      status: error?.status ?? null,
      attempt,
    });
  }

  progressLine() {
    this.line({
      type: "progress",
      ...this.state,
      elapsedSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      etaSeconds: this.etaSeconds(),
    });
  }

  end(summary) {
    clearInterval(this.timer);
    this.timer = null;
    if (summary) this.line({ ...this.state, ...summary });
  }
}

class BarProgress extends Counts {
  constructor(noun) {
    super();
    this.noun = noun;
    this.bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `{bar} {percentage}% | {items} ${noun} | pages {value}/{total} | calls {calls} | ETA {etaText}{status}`,
        barCompleteChar: "█",
        barIncompleteChar: "░",
        barsize: 24,
        hideCursor: false,
        gracefulExit: false,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    this.ticker = null;
  }

  forecast(_forecast, lines) {
    for (const line of lines) say(line);
  }

  note(text) {
    say(text);
  }

  payload() {
    const { items, itemsTotal, calls } = this.state;
    let status = "";
    if (this.wait) {
      const seconds = Math.max(0, Math.ceil((this.wait.until - Date.now()) / 1000));
      status = ` | waiting ${seconds} s ${this.wait.reason}`;
    }
    return {
      items: `${thousands(items)}/${thousands(Math.max(items, itemsTotal))}`,
      calls: thousands(calls),
      etaText: duration(this.etaSeconds()),
      status,
    };
  }

  start(state) {
    this.set(state);
    this.startedAt = Date.now();
    this.pageTimes = [];
    this.bar.start(Math.max(1, this.state.pagesTotal), this.state.pages, this.payload());
    // Redraws the countdown of a wait once a second.
    this.ticker = setInterval(() => this.redraw(), 1_000);
    this.ticker.unref();
  }

  redraw() {
    this.bar.setTotal(Math.max(1, this.state.pagesTotal, this.state.pages));
    this.bar.update(this.state.pages, this.payload());
  }

  update(state) {
    this.set(state);
    this.wait = null;
    this.redraw();
  }

  waiting({ waitMs, error }) {
    this.state.retries += 1;
    this.wait = { until: Date.now() + waitMs, reason: waitReason(error) };
    this.redraw();
  }

  end() {
    clearInterval(this.ticker);
    this.ticker = null;
    this.wait = null;
    this.redraw();
    this.bar.stop();
  }
}
