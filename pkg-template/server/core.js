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

/** `createConferbotHandler` over the instantiated `glue`. */
export function handlerFactory(glue) {
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
    const shared = store ? store.attach(policy, glue, options.apiKey) : null;
    const state = {
      policy,
      glue,
      clock: monotonic,
      shared,
      events: shared ? shared.events : localEvents(policy, monotonic),
    };
    state.forward = forwarder(state, transport);
    const core = (request) => handle(state, request);
    const handler = async (request) => {
      const input = fromRequest(request);
      const out = await core(input);
      return toResponse(out ?? plain(policy.notFound()));
    };
    Object.defineProperty(handler, CORE, { value: { core, notFound: () => plain(policy.notFound()) } });
    return handler;
  };
}

/**
 * One request, raw: `{method, path, query, absoluteForm, header(name),
 * hasBody, readBody(limit)}`. Answers what to send (`{status, headers, body}`
 * or, for the event stream, `{status, headers, feed}`), or `null` outside the
 * handler's paths.
 */
async function handle(state, request) {
  switch (state.policy.route(request.path)) {
    case "api":
      return api(state, request);
    case "events":
      return events(state, request);
    case "webhook":
      return receiveWebhook(state, request);
    default:
      return null;
  }
}

/** Everything under the mount but the event stream. */
async function api(state, request) {
  const { policy, clock } = state;
  const { bytes, problem } = await body(request, policy.maxBodyBytes);
  // The seam for issue 9's client identity and an `authorize(request)` hook
  // (branch `access`): it is decided here, before the policy's allowlist.
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
    clock(),
  );
  try {
    switch (step.kind) {
      case "reply":
        return plain(step.takeReply());
      case "lead":
        return await lead(state, step);
      case "join":
        return await join(state, step);
      default:
        return await write(state, step);
    }
  } finally {
    step.free();
  }
}

/** Reads in flight, by the policy's handle: what joiners await. */
const inFlight = new WeakMap();

function calls(state) {
  let map = inFlight.get(state);
  if (!map) inFlight.set(state, (map = new Map()));
  return map;
}

/** This request leads the read: the call (through the shared cache, with a store), then the table settles it. */
async function lead(state, step) {
  const { policy, clock, shared } = state;
  const pending = (async () => {
    const { outcome, cache } = shared
      ? await shared.read(step, () => state.forward(step))
      : { outcome: await state.forward(step), cache: "miss" };
    policy.settle(step, outcome, clock());
    return { outcome, cache };
  })();
  const map = calls(state);
  map.set(step.handle, pending);
  try {
    const { outcome, cache } = await pending;
    return plain(policy.finish(step, outcome, cache));
  } finally {
    map.delete(step.handle);
  }
}

/** The same read is in flight: its outcome, as `coalesced`. */
async function join(state, step) {
  const pending = calls(state).get(step.handle);
  const { outcome } = pending ? await pending : { outcome: state.policy.failure("internal", 0) };
  return plain(state.policy.finish(step, outcome, "coalesced"));
}

/** A write: straight to the upstream, then the reads it made stale go. */
async function write(state, step) {
  const { policy, shared } = state;
  const outcome = await state.forward(step);
  const stale = policy.wrote(step, outcome);
  if (shared && stale.length > 0) {
    // The write is done; if the shared cache cannot be told, its stale
    // entries still expire within the TTL (as conferbot-bff does).
    await shared.invalidate(stale).catch(() => {});
  }
  return plain(policy.finish(step, outcome, ""));
}

/** `GET {mount}/events`: refused, or the stream's head and its feed. */
async function events(state, request) {
  const origin = request.header("origin");
  const refusal = state.policy.events(request.method, origin);
  if (refusal) return plain(refusal);
  const head = plain(state.policy.sseHead(origin));
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

/** A wasm Reply as a plain answer (and the Reply freed). */
export function plain(reply) {
  const out = { status: reply.status, headers: reply.headers, body: reply.body };
  reply.free();
  return out;
}
