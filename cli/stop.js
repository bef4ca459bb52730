// SIGINT and SIGTERM during an export: stop after the page in flight.
//
// The first signal lets the request in flight finish, so that its page is
// appended and checkpointed and no call is wasted, then the export stops. If
// the client is waiting to retry (a 429's Retry-After can be a minute), the
// wait is cut short instead: nothing was received, so nothing is lost. A
// second signal aborts the request in flight at once. Appending a page and
// writing the checkpoint are synchronous, so a signal can never land between
// the two: the files on disk always agree with each other.
import { EXIT } from "./failure.js";

export class StopOnSignal {
  constructor() {
    /** `"SIGINT"` or `"SIGTERM"` once one arrived. */
    this.signal = null;
    this.controller = new AbortController();
    this.waitingUntil = 0;
    /** While nothing is worth finishing (the forecast), a signal aborts at once. */
    this.immediate = true;
    this.handlers = ["SIGINT", "SIGTERM"].map((name) => {
      const handler = () => this.received(name);
      process.on(name, handler);
      return [name, handler];
    });
  }

  /** Whether a stop was asked for. */
  get requested() {
    return this.signal !== null;
  }

  /** The signal to give the client's calls: aborted when the stop cannot wait. */
  get abortSignal() {
    return this.controller.signal;
  }

  /** The exit code of the signal received. */
  get exitCode() {
    return this.signal === "SIGTERM" ? EXIT.sigterm : EXIT.sigint;
  }

  /** The client is about to wait `waitMs` before retrying. */
  waiting(waitMs) {
    this.waitingUntil = Date.now() + waitMs;
  }

  /** A page arrived: the client is not waiting any more. */
  answered() {
    this.waitingUntil = 0;
  }

  received(name) {
    const first = this.signal === null;
    this.signal ??= name;
    if (!first || this.immediate || Date.now() < this.waitingUntil) this.controller.abort();
  }

  /** Restores the default handling of both signals. */
  dispose() {
    for (const [name, handler] of this.handlers) process.off(name, handler);
  }
}
