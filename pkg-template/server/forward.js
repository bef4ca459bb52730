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
  return async function forward(step) {
    const spent = policy.refusal(Date.now());
    if (spent) return spent;
    const deadline = clock() + policy.queueWaitMs;
    let queued = 0;
    for (let attempt = 1; ; attempt++) {
      const { refusal, waitedMs } = await window.acquire(step, deadline);
      if (refusal) return refusal;
      queued += waitedMs;
      const outcome = await call(policy, transport, step, headers, queued);
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
 * One upstream call, its answer read whole (at most the policy's bound) and
 * checked, with its `Date` (the upstream's clock turns its month) and the
 * time it `queued` for the window.
 */
async function call(policy, transport, step, [plainHeaders, bodyHeaders], queued) {
  const body = step.body;
  // One timer for the whole call, cleared as soon as the answer is read
  // (AbortSignal.timeout's timer lives until it fires: at a few thousand
  // calls a second, tens of thousands of them would wait out the timeout).
  const controller = new AbortController();
  const signal = controller.signal;
  const timer = setTimeout(() => controller.abort(), policy.upstreamTimeoutMs);
  let response;
  let raw;
  try {
    try {
      response = await transport(step.url, {
        method: step.method,
        headers: body ? bodyHeaders : plainHeaders,
        body,
        redirect: "manual",
        signal,
      });
    } catch {
      return policy.failure(signal.aborted ? "upstream_timeout" : "upstream_unreachable", 0);
    }
    try {
      raw = await readLimited(response, policy.maxAnswerBytes);
    } catch {
      return policy.failure(signal.aborted ? "upstream_timeout" : "cut_off", 0);
    }
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

/** The whole body, or `null` past `limit` bytes. */
async function readLimited(response, limit) {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await response.body?.cancel().catch(() => {});
    return null;
  }
  if (declared <= limit || !response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    return bytes.length > limit ? null : bytes;
  }
  const chunks = [];
  let length = 0;
  for await (const chunk of response.body) {
    length += chunk.length;
    if (length > limit) {
      await response.body.cancel().catch(() => {});
      return null;
    }
    chunks.push(chunk);
  }
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
