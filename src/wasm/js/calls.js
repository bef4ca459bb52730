// The JS side of a call: its attempts (request, timeout, the checked answer)
// and the waits between them, the pages of a list, and the `for await`
// protocols over lists and live events. What is decided (retries, pages,
// errors, event parsing) is decided in Rust; this only runs it. Every timer
// set here is cleared on every path, so a finished call leaves nothing that
// keeps Node's event loop alive.
// (One hand-written file: wasm-bindgen-test-runner's headless page hangs now
// and then when it loads one snippet module more.)

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
 * One HTTP attempt of a call, from request to checked answer, so that a call
 * crosses between wasm and JS once: `fetch`, the whole body read within
 * `timeoutMs`, and a 2xx body checked by the generated checker of the
 * answer's form (`wire`: `wireChecks` of `wire.js`, handed over by the
 * wasm, so that this snippet imports no other); `form` < 0 is an operation
 * that returns nothing, whose 2xx answer resolves `undefined` whatever its
 * body.
 *
 * With a caller's signal, the request runs under a signal that fires on it
 * or on the timeout. Without one, no signal is made at all: passing any
 * signal to `fetch` costs Node's fetch about a tenth of a loopback call
 * (measured by `cargo xtask bench`, section 3), so the timeout is a race
 * instead: the attempt rejects on time, and the abandoned request is let go
 * (its body cancelled once its headers come, so its connection is freed).
 *
 * Rejects with what went wrong, for the Rust side to type and to decide on a
 * retry: `{ status, body, retryAfter, headers }` for an error status (`body`
 * the documented error body or `null`), or `{ failed, reason, text, headers }`
 * with `failed` one of "aborted", "timeout", "network", "cut" (a 2xx body
 * that could not be read) or "decode" (`reason` says why; `text` is the body).
 */
export function exchange(method, url, headers, body, callerSignal, timeoutMs, form, wire) {
  if (callerSignal) return exchangeUnder(new Attempt(callerSignal, timeoutMs), method, url, headers, body, form, wire);
  let late = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      late = true;
      reject({ failed: "timeout", reason: null, text: "", headers: null });
    }, timeoutMs);
    read(fetch(url, { method, headers, body }), form, () => late, wire).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (failure) => {
        clearTimeout(timer);
        reject(failure);
      },
    );
  });
}

// The answer of `fetching`, read and checked; `late()` says the attempt has
// timed out, so that an answer that comes after all is let go.
async function read(fetching, form, late, wire) {
  let response;
  try {
    response = await fetching;
  } catch (reason) {
    throw { failed: "network", reason, text: "", headers: null };
  }
  if (late()) {
    response.body?.cancel().catch(() => {});
    return undefined;
  }
  return answer(response, form, (kind) => kind, wire);
}

// The same under an `Attempt` (the caller's signal and the timeout).
async function exchangeUnder(attempt, method, url, headers, body, form, wire) {
  const kindOf = (kind) => (attempt.callerAborted ? "aborted" : attempt.timedOut ? "timeout" : kind);
  let response;
  try {
    response = await fetch(url, { method, headers, body, signal: attempt.signal });
  } catch (reason) {
    attempt.dispose();
    throw { failed: kindOf("network"), reason, text: "", headers: null };
  }
  try {
    return await answer(response, form, kindOf, wire);
  } finally {
    attempt.dispose();
  }
}

// A response's body read whole and, for a 2xx, checked; `kindOf` names a
// failure to read it ("network" unless the attempt was aborted or timed out).
async function answer(response, form, kindOf, wire) {
  const ok = response.status >= 200 && response.status < 300;
  let text = "";
  try {
    text = await response.text();
  } catch (reason) {
    const failed = kindOf(ok ? "cut" : "network");
    // An error status still says what went wrong without its body; a void
    // operation that succeeded did so whatever became of its body.
    if (failed === "cut" && form < 0) return { value: undefined, headers: response.headers };
    if (failed !== "network") throw { failed, reason, text: "", headers: response.headers };
  }
  if (!ok) {
    throw { status: response.status, body: wire.errorBody(text), retryAfter: response.headers.get("retry-after"), headers: response.headers };
  }
  if (form < 0) return { value: undefined, headers: response.headers };
  try {
    return { value: wire.checkAnswer(text, form), headers: response.headers };
  } catch (reason) {
    throw { failed: "decode", reason, text, headers: response.headers };
  }
}

/**
 * A whole call: attempts until one succeeds or the Rust retry policy gives
 * up. `judge` (Rust) decides after each failure whether and after how long
 * to try again, and writes the final `ConferbotError`; this only loops and
 * waits (telling `onRetry` before each wait), so a successful call never
 * re-enters the wasm. Resolves to the checked answer; `onQuota` is told
 * what the answer's quota headers say, and the error a call rejects with
 * carries them as `quota`.
 */
export async function send(judge, wire, method, url, headers, body, signal, timeoutMs, maxRetries, form, onRetry, onQuota) {
  const { value } = await attempts(judge, wire, method, url, headers, body, signal, timeoutMs, maxRetries, form, onRetry, onQuota);
  return value;
}

// The loop of `send`: `{ value, quota }` of the answer that succeeded.
async function attempts(judge, wire, method, url, headers, body, signal, timeoutMs, maxRetries, form, onRetry, onQuota) {
  for (let retries = 0; ; retries++) {
    if (signal?.aborted) throw judge.failure(ABORTED, timeoutMs);
    let outcome;
    try {
      const answered = await exchange(method, url, headers, body, signal, timeoutMs, form, wire);
      // An answer that came after its attempt timed out was let go.
      const quota = wire.quotaOf(answered?.headers ?? null);
      if (quota && onQuota) observe(onQuota, quota);
      return { value: answered?.value, quota };
    } catch (caught) {
      outcome = caught;
    }
    const ms = judge.retryDelay(outcome, method, retries, maxRetries, timeoutMs, Math.random());
    const quota = wire.quotaOf(outcome?.headers ?? null);
    if (quota && onQuota) observe(onQuota, quota);
    if (ms < 0) throw withQuota(judge.failure(outcome, timeoutMs), quota);
    if (onRetry) notifyRetry(onRetry, retries + 1, ms, withQuota(judge.failure(outcome, timeoutMs), quota));
    if (!(await sleep(ms, signal))) throw judge.failure(ABORTED, timeoutMs);
  }
}

// A `ConferbotError` with what its answer's quota headers said.
function withQuota(error, quota) {
  error.quota = quota;
  return error;
}

const ABORTED = { failed: "aborted" };

/**
 * One page of a list: the call, then the page's numbers recorded by its
 * Rust cursor (the paginator decides what comes next), then the page.
 */
export async function sendPage(cursor, judge, wire, method, url, headers, signal, timeoutMs, maxRetries, form, onRetry, onQuota) {
  const { value: body, quota } = await attempts(judge, wire, method, url, headers, undefined, signal, timeoutMs, maxRetries, form, onRetry, onQuota);
  const page = cursor.record(body.data.length, body.total ?? -1, body.page ?? -1, body.totalPages ?? -1);
  return newPage(cursor, body.data, body.total, page, body.totalPages, quota);
}

/**
 * Tells the caller's `onRetry(info)` hook that the client is about to wait
 * before retrying. The hook only observes: what it throws, and the rejection
 * of a promise it returns, are swallowed, so that a progress display can never
 * fail the call (nor leave an unhandled rejection behind).
 */
export function notifyRetry(hook, attempt, waitMs, error) {
  observe(hook, { attempt, waitMs, error });
}

// Calls an observer's `hook` with `info`, swallowing what it throws and the
// rejection of a promise it returns.
function observe(hook, info) {
  try {
    const returned = hook(info);
    if (returned !== null && typeof returned === "object" && typeof returned.then === "function") {
      returned.then(undefined, () => {});
    }
  } catch {
    // An observer's failure is not the call's.
  }
}

// Pages and the `for await` protocols: only JS can define
// `Symbol.asyncIterator`, and a page's fields are cheaper to read as plain
// properties. Which page comes next, and how live events are read, parsed and
// reconnected, is decided in Rust; this only walks.

/** One page of a list; `cursor` (Rust) knows whether and how to fetch the next. */
class Page {
  #cursor;

  constructor(cursor, data, total, page, totalPages, quota) {
    this.data = data;
    this.total = total ?? null;
    this.page = page;
    this.totalPages = totalPages ?? null;
    this.quota = quota ?? null;
    this.#cursor = cursor;
  }

  hasNextPage() {
    return this.#cursor.hasNext();
  }

  getNextPage() {
    return pagePromise(this.#cursor.next());
  }

  /** This page, then every later one, fetched as the loop asks for them. */
  async *iterPages() {
    let page = this;
    for (;;) {
      yield page;
      if (!page.hasNextPage()) return;
      page = await page.getNextPage();
    }
  }

  /**
   * Every item of this page and of every later one. The pages fetched on the
   * way are freed once walked, so memory stays flat however long the list.
   */
  async *[Symbol.asyncIterator]() {
    let page = this;
    try {
      for (;;) {
        yield* page.data;
        if (!page.hasNextPage()) return;
        const next = await page.getNextPage();
        if (page !== this) page.free();
        page = next;
      }
    } finally {
      if (page !== this) page.free();
    }
  }

  /** Releases the page's wasm memory now instead of at garbage collection. */
  free() {
    this.#cursor?.free();
    this.#cursor = null;
  }
}

export const newPage = (cursor, data, total, page, totalPages, quota) => new Page(cursor, data, total, page, totalPages, quota);

// A list call's promise, which is also async-iterable over every item of the
// list (like openai-node's PagePromise): await it for the first page, or
// `for await` it for the items.
export function pagePromise(promise) {
  promise[Symbol.asyncIterator] = itemsOfFirstPage;
  return promise;
}

// One function for every such promise (`this` is the promise), so that a
// call makes no closure for a loop it may never run.
async function* itemsOfFirstPage() {
  yield* await this;
}

// Every item of a list, lazily: nothing is sent until a loop starts, and each
// loop starts from the first page anew.
export function pageItems(firstPage) {
  return {
    [Symbol.asyncIterator]() {
      return pagePromise(firstPage.fetch())[Symbol.asyncIterator]();
    },
  };
}

// Live events from a Rust event stream. Steps run one at a time; `return()`
// (a `break` out of the loop) closes the stream at once, also while a step
// waits, and frees it.
export function eventItems(stream) {
  let open = true;
  let queue = Promise.resolve();
  const finish = (value) => {
    if (open) {
      open = false;
      stream.close();
      stream.free();
    }
    return { done: true, value };
  };
  // Rust plans each step: an event, `undefined` (closed), or I/O to await.
  const nextEvent = async () => {
    for (;;) {
      const step = stream.plan();
      if (!(step instanceof Promise)) return step;
      let fulfilled = true;
      let value;
      try {
        value = await step;
      } catch (reason) {
        fulfilled = false;
        value = reason;
      }
      if (!open) return undefined;
      stream.settle(fulfilled, value);
    }
  };
  const step = async () => {
    if (!open) return { done: true, value: undefined };
    try {
      const value = await nextEvent();
      return value === undefined ? finish() : { done: false, value };
    } catch (error) {
      finish();
      throw error;
    }
  };
  return {
    next() {
      const result = queue.then(step);
      queue = result.catch(() => {});
      return result;
    },
    async return(value) {
      return finish(value);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

// The body of a streaming answer, chunk by chunk: a Uint8Array, or null at its end.
export const bodyReader = (response) => response.body?.getReader() ?? null;
export const readChunk = (reader) => reader.read().then(({ done, value }) => (done ? null : value));
