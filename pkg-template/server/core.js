// The server half's request flow, runtime-neutral: every decision is the
// wasm policy's (crates/server-wasm, the same Rust as conferbot-bff); this
// file does what wasm cannot: it reads the request and its body, calls the
// upstream with `fetch`, keeps the promises of reads in flight, and hands
// back what to send. The entry points (node.js, workerd.js) give it the
// instantiated wasm glue.
import { forwarder } from "./forward.js";
import { eventFeed, localEvents, receiveWebhook } from "./events.js";
import { fromRequest, toResponse } from "./adapters.js";

/** Where toNodeListener finds the handler's raw-request entry. */
export const CORE = Symbol.for("conferbot-wasm/server core");

const monotonic = () => performance.now();

/** Throws in a browser: the handler holds the API key. */
export function refuseBrowser(what) {
  if (typeof window !== "undefined" && typeof document !== "undefined") {
    throw new Error(`${what} holds the Conferbot API key and runs on servers only; in a browser, use the client through it (new ConferbotClient()).`);
  }
}

/** `createConferbotHandler` over the instantiated `glue` and its wasm `memory`. */
export function handlerFactory(glue, memory) {
  return function createConferbotHandler(options) {
    refuseBrowser("createConferbotHandler");
    const store = options?.store;
    let policy;
    try {
      policy = new glue.Policy(options, Boolean(store), Date.now());
    } catch (error) {
      throw new TypeError(`createConferbotHandler: ${error?.message ?? error}`);
    }
    const transport = options.fetch ?? globalThis.fetch;
    if (typeof transport !== "function") throw new TypeError("createConferbotHandler: fetch must be a function (the upstream transport)");
    if (options.waitUntil !== undefined && typeof options.waitUntil !== "function") {
      throw new TypeError("createConferbotHandler: waitUntil must be a function (the runtime's hook that keeps a promise alive after the answer, like Vercel's waitUntil)");
    }
    if (options.authorize !== undefined && typeof options.authorize !== "function") {
      throw new TypeError("createConferbotHandler: authorize must be a function (request) => true | false | { user } | { status: 401 | 403 }");
    }
    const shared = store ? store.attach(policy, glue) : null;
    const state = {
      policy,
      glue,
      clock: monotonic,
      shared,
      events: shared ? shared.events : localEvents(policy, monotonic),
      kept: new Set(),
      waitUntil: options.waitUntil,
      authorize: options.authorize,
    };
    state.forward = forwarder(state, transport);
    const core = (request, context) => handle(state, request, background(state, context));
    const handler = async (request, ...context) => {
      const input = fromRequest(request, context);
      const out = await core(input, context);
      return toResponse(out ?? plain(policy.notFound()));
    };
    // The raw-request entry, and the wasm memory's size (for the tests that
    // check it stays bounded: it grows, never shrinks).
    const wasmMemoryBytes = () => memory.buffer.byteLength;
    Object.defineProperty(handler, CORE, { value: { core, notFound: () => plain(policy.notFound()), wasmMemoryBytes } });
    return handler;
  };
}

/**
 * How work that outlives the answer (a stale read's refresh) is kept alive:
 * the runtime's `waitUntil` when the request came with one (workerd's
 * `fetch(request, env, ctx)`: `ctx.waitUntil`; any argument after the
 * request that has it), else the `waitUntil` option, else the promise is
 * held here until it settles (Node, Deno, Bun keep running it).
 */
function background(state, context = []) {
  const hook = context.find((arg) => typeof arg?.waitUntil === "function");
  return (promise) => {
    const settled = promise.catch(() => {});
    if (hook) return hook.waitUntil(settled);
    if (state.waitUntil) return state.waitUntil(settled);
    state.kept.add(settled);
    settled.finally(() => state.kept.delete(settled));
  };
}

/**
 * One request, raw: `{method, path, query, absoluteForm, authority, peer,
 * original, header(name), hasBody, readBody(limit)}`. Answers what to send
 * (`{status, headers, body}` or, for the event stream, `{status, headers,
 * feed}`), or `null` outside the handler's paths; `later(promise)` keeps
 * background work alive. Every request it answers must name an allowed host
 * first (`allowHosts`, against DNS rebinding), as the BFF's outermost layer.
 */
async function handle(state, request, later) {
  const part = state.policy.route(request.path);
  if (part === "outside") return null;
  const refused = state.policy.hostRefusal(request.header("host") ?? request.authority);
  if (refused) return plain(refused);
  switch (part) {
    case "api":
      return api(state, request, later);
    case "events":
      return events(state, request);
    default:
      return receiveWebhook(state, request);
  }
}

/**
 * Who the request is from (a wasm `Caller`): the user `authorize(request)`
 * names, when the hook is given and the request is not a CORS preflight,
 * else the peer's address (behind `trustedProxies`, X-Forwarded-For's).
 * The hook's answer: `true` or `{}` lets the request in, `{ user }` also
 * names its user, `false` refuses it (403), `{ status: 401 | 403 }` too;
 * anything else, a throw, or no answer within `authTimeoutMs` refuses it
 * with 503 (fail closed), as conferbot-bff's forward-auth decides.
 */
async function caller(state, request) {
  const { policy } = state;
  let status = 0;
  let user;
  if (state.authorize && !policy.isPreflight(request.method)) {
    const answer = await verdict(state.authorize, request.original, policy.authTimeoutMs);
    status = answer.status;
    user = answer.user;
  }
  return policy.caller(request.peer, request.header("x-forwarded-for"), status, user);
}

async function verdict(authorize, original, timeoutMs) {
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ status: 503 }), timeoutMs);
  });
  try {
    const answer = await Promise.race([Promise.resolve().then(() => authorize(original)), late]);
    if (answer === true) return { status: 200 };
    if (answer === false) return { status: 403 };
    if (answer && typeof answer === "object") {
      const user = typeof answer.user === "string" ? answer.user : undefined;
      return { status: Number.isInteger(answer.status) ? answer.status : 200, user };
    }
    return { status: 503 };
  } catch {
    return { status: 503 };
  } finally {
    clearTimeout(timer);
  }
}

/** Everything under the mount but the event stream. */
async function api(state, request, later) {
  const { policy, clock } = state;
  state.shared?.tick();
  const who = await caller(state, request);
  const { bytes, problem } = await body(request, policy.maxBodyBytes);
  const step = policy.api(
    request.method,
    request.path,
    request.query,
    request.absoluteForm,
    request.header("x-conferbot-csrf"),
    request.header("origin"),
    request.header("host"),
    bytes,
    problem,
    who,
    clock(),
    Date.now(),
  );
  who.free();
  try {
    if (step.kind === "learn") {
      // A monthly budget needs the month's use: one getUsage through the cache first.
      const usage = policy.usageStep(step, clock(), Date.now());
      try {
        await run(state, usage, later);
      } finally {
        if (!handedOff.has(usage)) usage.free();
      }
      policy.proceed(step, clock(), Date.now());
    }
    return await run(state, step, later);
  } finally {
    if (!handedOff.has(step)) step.free();
  }
}

/** Steps whose background refresh frees them. */
const handedOff = new WeakSet();

// Every wasm object JS is given (a Step, an Outcome, a Reply…) is freed by
// whoever holds it, as soon as it is done: one left to the garbage
// collector keeps its memory in the wasm instance until a finalizer runs,
// and a wasm memory grows but never shrinks. An Outcome holds a whole
// answer; every request that joins a call gets its own handle on it
// (`duplicate`, shared, not copied) and frees that.

/** A step, to its answer; a `stale` step's refresh runs on (and frees it). */
async function run(state, step, later) {
  switch (step.kind) {
    case "reply":
      return plain(step.takeReply());
    case "stale": {
      const reply = plain(step.takeReply());
      handedOff.add(step);
      later(refresh(state, step));
      return reply;
    }
    case "lead":
      return await lead(state, step, later);
    case "join":
      return await join(state, step);
    default:
      return await write(state, step);
  }
}

/**
 * Reads in flight, by the policy's handle: the requests that joined each,
 * as the functions that hand them the read's answer.
 */
const inFlight = new WeakMap();

function calls(state) {
  let map = inFlight.get(state);
  if (!map) inFlight.set(state, (map = new Map()));
  return map;
}

/** A stale answer was served: one call refreshes it for everyone, then the table settles it. */
async function refresh(state, step) {
  let outcome;
  try {
    outcome = await state.forward(step);
    state.policy.settle(step, outcome, state.clock())?.free();
  } finally {
    outcome?.free();
    step.free();
  }
}

/**
 * This request leads the read: the call (through the shared cache, with a
 * store), then the table settles it; a call that failed in a way that says
 * nothing about the data serves what was held instead, marked stale. Each
 * request that joined meanwhile is handed its own handle on the answer
 * (none, should the read throw: it then answers 500, as the lead does).
 */
async function lead(state, step, later) {
  const { policy, clock, shared } = state;
  const joined = [];
  const map = calls(state);
  map.set(step.handle, joined);
  let served;
  try {
    served = shared
      ? await shared.read(step, state.forward, later)
      : { outcome: await state.forward(step), cache: "miss", ageMs: -1 };
    const held = policy.settle(step, served.outcome, clock());
    if (held) {
      served.outcome.free();
      served = { outcome: held.outcome, cache: "stale", ageMs: held.ageMs };
      held.free();
    }
  } finally {
    map.delete(step.handle);
    for (const hand of joined) hand(served && { ...served, outcome: served.outcome.duplicate() });
  }
  try {
    return plain(policy.finish(step, served.outcome, served.cache, served.ageMs, clock(), Date.now()));
  } finally {
    served.outcome.free();
  }
}

/** The same read is in flight: its outcome, as `coalesced` (or `stale`, for an answer held before a failed call). */
async function join(state, step) {
  const { policy, clock } = state;
  const joined = calls(state).get(step.handle);
  const served = joined ? await new Promise((resolve) => joined.push(resolve)) : undefined;
  // No read to join (or it ended in a throw): the policy's own 500.
  const outcome = served?.outcome ?? policy.failure("internal", 0);
  const cache = served?.cache === "stale" ? "stale" : "coalesced";
  try {
    return plain(policy.finish(step, outcome, cache, served?.ageMs ?? -1, clock(), Date.now()));
  } finally {
    outcome.free();
  }
}

/** A write: straight to the upstream, then what it changed is stale. */
async function write(state, step) {
  const { policy, shared, clock } = state;
  const outcome = await state.forward(step);
  try {
    const stale = policy.wrote(step, outcome);
    if (shared && stale) {
      // The write is done; if the shared cache cannot be told, its stale
      // entries still expire (as conferbot-bff does).
      await shared.invalidate(stale).catch(() => {});
    }
    return plain(policy.finish(step, outcome, "", -1, clock(), Date.now()));
  } finally {
    outcome.free();
  }
}

/** `GET {mount}/events`: refused, or the stream's head and its feed. */
async function events(state, request) {
  const { policy, clock } = state;
  state.shared?.tick();
  const origin = request.header("origin");
  const who = await caller(state, request);
  const refusal = policy.events(request.method, origin, who, clock(), Date.now());
  who.free();
  if (refusal) return plain(refusal);
  const head = plain(policy.sseHead(origin, clock(), Date.now()));
  return { status: head.status, headers: head.headers, feed: eventFeed(state, request.header("last-event-id")) };
}

/**
 * The request body, at most `limit` bytes: `{bytes, problem}`, problem 1 when
 * it is longer (a declared length is refused before reading), 2 when it could
 * not be read.
 */
export async function body(request, limit) {
  if (!request.hasBody) return { bytes: undefined, problem: 0 };
  const declared = Number(request.header("content-length") ?? NaN);
  if (declared > limit) return { bytes: undefined, problem: 1 };
  try {
    const bytes = await request.readBody(limit);
    return bytes === null ? { bytes: undefined, problem: 1 } : { bytes, problem: 0 };
  } catch {
    return { bytes: undefined, problem: 2 };
  }
}

/** A wasm Reply as a plain answer, headers as flat pairs (and the Reply freed). */
export function plain(reply) {
  const lines = reply.headerLines;
  const out = { status: reply.status, headers: lines === "" ? [] : lines.split("\n"), body: reply.takeBody() };
  reply.free();
  return out;
}
