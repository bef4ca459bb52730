// Timers and abort signals for the Rust retry loop. Every timer set here is
// cleared on every path, so a finished call leaves nothing that keeps Node's
// event loop alive.

/**
 * The abort signal of one HTTP attempt (or of a whole event stream): it
 * fires when the caller's signal fires, when `timeoutMs` is up (if given),
 * or on `abort()`. `dispose()` must be called when the attempt is over (the
 * Rust side always does).
 */
export class Attempt {
  constructor(callerSignal, timeoutMs) {
    this.controller = new AbortController();
    this.callerSignal = callerSignal ?? null;
    this.timedOut = false;
    this.forward = () => this.controller.abort();
    this.timer = timeoutMs === undefined ? undefined : setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, timeoutMs);
    if (this.callerSignal?.aborted) {
      this.controller.abort();
    } else {
      this.callerSignal?.addEventListener("abort", this.forward, { once: true });
    }
  }

  get signal() {
    return this.controller.signal;
  }

  get callerAborted() {
    return this.callerSignal?.aborted === true;
  }

  /** The answer's headers are in: a stream may stay open past the timeout. */
  connected() {
    clearTimeout(this.timer);
  }

  abort() {
    this.controller.abort();
  }

  dispose() {
    clearTimeout(this.timer);
    this.callerSignal?.removeEventListener("abort", this.forward);
  }
}

/**
 * Waits `ms` milliseconds; resolves `true` when the time is up and `false` as
 * soon as `signal` aborts (never rejects, so Rust decides what that means).
 */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve(false);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Tells the caller's `onRetry(info)` hook that the client is about to wait
 * before retrying. The hook only observes: what it throws, and the rejection
 * of a promise it returns, are swallowed, so that a progress display can never
 * fail the call (nor leave an unhandled rejection behind).
 */
export function notifyRetry(hook, attempt, waitMs, error) {
  try {
    const returned = hook({ attempt, waitMs, error });
    if (returned !== null && typeof returned === "object" && typeof returned.then === "function") {
      returned.then(undefined, () => {});
    }
  } catch {
    // An observer's failure is not the call's.
  }
}
