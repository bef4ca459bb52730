// Upstream calls through the rate window, as conferbot-bff's forwarder makes
// them: none the month's quota would refuse (the policy's 429 "Monthly API
// limit reached" until the month turns); a turn in the window first
// (in-process here, or the store's shared one), within the queue budget;
// the request the policy built, with its headers only, no redirects
// followed, one timeout for the whole call and a bound on the answer's size;
// the answer checked by the policy, and what it teaches the month's book
// (a call counted, the month from getUsage, the upstream's clock and its
// monthly refusal) told to it. An upstream 429 for the minute pauses the
// window for its Retry-After and repeats the call if that fits the budget
// (the policy's pause and repeat rules).

/** `forward(step)`: the call a lead, stale or call step names, as an Outcome the caller frees. */
export function forwarder(state, transport) {
  const { policy, clock } = state;
  const window = state.shared ? state.shared.window : localWindow(policy, clock);
  const account = state.shared ? state.shared.account : async (step, outcome) => policy.account(step, outcome, Date.now());
  const headers = [pairs(policy.upstreamHeaders(false)), pairs(policy.upstreamHeaders(true))];
  const bare = bareCalls();
  return async function forward(step) {
    const spent = policy.refusal(Date.now());
    if (spent) return spent;
    const deadline = clock() + policy.queueWaitMs;
    let queued = 0;
    for (let attempt = 1; ; attempt++) {
      const { refusal, waitedMs } = await window.acquire(step, deadline);
      if (refusal) return refusal;
      queued += waitedMs;
      const outcome = await call(policy, transport, step, headers, queued, bare);
      await account(step, outcome);
      if (!outcome.isRateLimited) return outcome;
      const pause = await window.pause(outcome.retryAfter);
      const left = deadline - clock();
      if (!(left >= 0 && policy.repeatAfter429(attempt, pause, left))) return outcome;
      outcome.free();
    }
  };
}

function pairs(flat) {
  const out = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

/**
 * Upstream calls made with no abort signal that have not had their answer's
 * head yet, and how many of those are past their timeout. Passing any
 * signal to `fetch` costs Node's fetch about a tenth of a loopback call
 * (`cargo xtask bench`, section 15), so a call carries one only when it may
 * need it: while a call without one is overdue (the upstream stalls), or
 * while `BARE_LIMIT` calls without one wait for their heads. A call without
 * a signal is still answered `504` on time; what its timeout cannot do is
 * close the connection before the answer's head comes (its body is then
 * cancelled at once), so at most `BARE_LIMIT` connections outlive their
 * timeout, each until the upstream answers or the runtime's own timeout
 * (Node: 300 s for a head). Answer bodies are read through a reader that
 * the timeout cancels, with or without a signal.
 */
export const BARE_LIMIT = 256;

function bareCalls() {
  return { waiting: 0, overdue: 0 };
}

/**
 * One upstream call, its answer read whole (at most the policy's bound) and
 * checked, with its `Date` (the upstream's clock turns its month) and the
 * time it `queued` for the window; `bare` counts the calls in flight
 * without a signal.
 */
async function call(policy, transport, step, [plainHeaders, bodyHeaders], queued, bare) {
  const body = step.body;
  const init = { method: step.method, headers: body ? bodyHeaders : plainHeaders, body, redirect: "manual" };
  const cut = bare.overdue > 0 || bare.waiting >= BARE_LIMIT ? new AbortController() : null;
  if (cut) init.signal = cut.signal;
  // One timer for the whole call, cleared as soon as the answer is read
  // (AbortSignal.timeout's timer lives until it fires: at a few thousand
  // calls a second, tens of thousands of them would wait out the timeout).
  // When it fires the call is `expired`: the wait for the head ends, the
  // body's reader is cancelled, and the answer is 504.
  const pending = { head: true, overdue: false, expired: false, expire: null, cancelBody: null };
  const timer = setTimeout(() => {
    pending.expired = true;
    if (!cut && pending.head) {
      pending.overdue = true;
      bare.overdue++;
    }
    cut?.abort();
    pending.expire?.();
    pending.cancelBody?.();
  }, policy.upstreamTimeoutMs);
  let response;
  let raw;
  try {
    let fetching;
    try {
      fetching = Promise.resolve(transport(step.url, init));
    } catch {
      return policy.failure("upstream_unreachable", 0);
    }
    if (!cut) {
      bare.waiting++;
      fetching.then(
        (late) => {
          headCame(bare, pending);
          // Its call was answered 504 already: the connection is let go.
          if (pending.overdue) late?.body?.cancel().catch(() => {});
        },
        () => headCame(bare, pending),
      );
    }
    try {
      response = await new Promise((resolve, reject) => {
        pending.expire = resolve;
        fetching.then(resolve, reject);
      });
    } catch {
      return policy.failure(pending.expired ? "upstream_timeout" : "upstream_unreachable", 0);
    } finally {
      pending.expire = null;
    }
    if (pending.expired) return policy.failure("upstream_timeout", 0);
    try {
      raw = await readLimited(response, policy.maxAnswerBytes, pending);
    } catch {
      return policy.failure(pending.expired ? "upstream_timeout" : "cut_off", 0);
    }
    if (pending.expired) return policy.failure("upstream_timeout", 0);
  } finally {
    clearTimeout(timer);
  }
  if (raw === null) return policy.failure("too_long", 0);
  const date = response.headers.get("date");
  // The upstream's clock (its month turns by it), read by the platform's own HTTP-date parser.
  const dateMs = date === null ? undefined : Date.parse(date);
  // Whole milliseconds, rounded down as the BFF's Duration::as_millis does.
  return policy.check(response.status, response.headers.get("retry-after") ?? undefined, dateMs, raw, Math.floor(queued));
}

/** A call without a signal got its head (or failed before it). */
function headCame(bare, pending) {
  if (!pending.head) return;
  pending.head = false;
  bare.waiting--;
  if (pending.overdue) bare.overdue--;
}

/**
 * The whole body, or `null` past `limit` bytes, read through a reader the
 * call's timeout cancels (`pending.cancelBody`: the read then ends early,
 * and the call, expired, answers 504).
 */
async function readLimited(response, limit, pending) {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await response.body?.cancel().catch(() => {});
    return null;
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  pending.cancelBody = () => reader.cancel().catch(() => {});
  const chunks = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/**
 * The in-process window: the policy's state machine with JS timers, fair
 * between clients. A waiter polls, then sleeps until the time it was told
 * or until the queue changes (a poll that granted turns to others, a ticket
 * refused or given up, a pause). `acquire(step, deadline)` answers
 * `{refusal}` or `{waitedMs}` (0 when admitted at once).
 */
export function localWindow(policy, clock) {
  const ADMITTED = -1;
  const waiters = new Set();
  const changed = () => {
    for (const wake of waiters) wake();
    waiters.clear();
  };
  const sleep = (until) => new Promise((resolve) => {
    let timer;
    const wake = () => {
      clearTimeout(timer);
      waiters.delete(wake);
      resolve();
    };
    waiters.add(wake);
    if (until >= 0) timer = setTimeout(wake, Math.max(0, until - clock()));
  });
  return {
    async acquire(step, deadline) {
      const joined = policy.windowJoin(step, Date.now());
      const ticket = joined.ticket;
      const spent = joined.takeRefusal();
      joined.free();
      if (spent) return { refusal: spent };
      const asked = clock();
      let done = false;
      try {
        for (let polls = 0; ; polls++) {
          const turn = policy.windowPoll(ticket, clock(), deadline);
          if (policy.windowNews()) changed();
          if (turn === ADMITTED) {
            done = true;
            return { waitedMs: polls === 0 ? 0 : clock() - asked };
          }
          if (turn <= -3) {
            done = true;
            return { refusal: policy.failure("queue_timeout", -turn - 3) };
          }
          await sleep(turn);
        }
      } finally {
        if (!done) {
          policy.windowLeave(ticket);
          if (policy.windowNews()) changed();
        }
      }
    },
    async pause(retryAfter) {
      const pause = policy.windowPause(clock(), retryAfter ?? undefined, true);
      if (policy.windowNews()) changed();
      return pause;
    },
  };
}
