// `conferbot-wasm/server/redis`: state shared through Redis, so that several
// handlers (Node processes, serverless instances) and conferbot-bff replicas
// with the same API key share one rate window, one cache with its
// coalescing, revalidation and patched answers, one month's book, and one
// event log. The key names, the Lua scripts (the policy crate's own .lua
// files, written beside this one by cargo xtask dist), the arguments they take and the reading of
// their replies all come from the policy (the same crate conferbot-bff
// uses); this file only runs them and waits, over the `redis` package
// (node-redis), which you install beside this one.
//
// Like conferbot-bff, it fails closed: while Redis does not answer, requests
// that need the upstream get 503 with Retry-After, never unshaped traffic.
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

import { createClient } from "redis";

/**
 * The policy's Lua scripts (crates/policy/src/shared_state/*.lua), by name:
 * `cargo xtask dist` writes them into `lua/` beside this file from the
 * policy crate itself, the same text conferbot-bff compiles in.
 */
const LUA = new URL("./lua/", import.meta.url);
const SCRIPTS = Object.fromEntries(
  readdirSync(LUA)
    .filter((file) => file.endsWith(".lua"))
    .map((file) => {
      const text = readFileSync(new URL(file, LUA), "utf8");
      return [file.slice(0, -4), { text, sha: createHash("sha1").update(text).digest("hex") }];
    }),
);

/** Longest a command may take before Redis counts as unreachable (as the BFF's). */
const COMMAND_TIMEOUT_MS = 2_000;
/** A follower's first and longest wait between two asks (as the BFF's). */
const FIRST_BACKOFF_MS = 20;
const MAX_BACKOFF_MS = 500;

/**
 * A store for `createConferbotHandler({ store })`: `{ url }` (a Redis URL,
 * `redis://127.0.0.1:6379/0`) or `{ client }` (a node-redis client you made,
 * not yet connected). `close()` ends its connections.
 */
export function redisStore({ url, client } = {}) {
  if (!url && !client) throw new TypeError("redisStore needs { url } or { client }");
  const commands = client ?? createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 1_000, reconnectStrategy: (n) => Math.min(100 * 2 ** n, 2_000) } });
  const subscriber = commands.duplicate();
  for (const connection of [commands, subscriber]) connection.on("error", () => {});
  const connected = Promise.all([commands.connect(), subscriber.connect()]);
  connected.catch(() => {});
  let attached = false;
  return {
    attach(policy) {
      if (attached) throw new Error("a redisStore serves one handler; make one per handler");
      attached = true;
      return shared(policy, commands, subscriber, connected);
    },
    async close() {
      await Promise.allSettled([subscriber.quit?.() ?? subscriber.close(), commands.quit?.() ?? commands.close()]);
    },
  };
}

function shared(policy, commands, subscriber, connected) {
  const layout = policy.sharedLayout();
  const k = (name) => layout.prefix + name;
  const clock = () => performance.now();

  const command = (args) => within(connected.then(() => commands.sendCommand(args.map(String))));
  /** EVALSHA, and EVAL once when Redis does not know the script yet. */
  const run = async (name, keys, args) => {
    const { text, sha } = SCRIPTS[name];
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await command(["EVALSHA", sha, ...tail]);
    } catch (error) {
      if (!String(error?.message).startsWith("NOSCRIPT")) throw error;
      return command(["EVAL", text, ...tail]);
    }
  };

  // One subscription for the whole handler: finished reads for waiting
  // followers, events for the SSE streams (and a resync when it reconnects).
  const followers = new Map();
  const listeners = new Set();
  let subscribedOnce = false;
  const subscribed = connected.then(() => subscriber.subscribe([k(layout.keys.eventsChannel), k(layout.keys.doneChannel)], (message, channel) => {
    if (channel === k(layout.keys.doneChannel)) {
      // Every server's finished reads come here: each follower of the key
      // gets its own handle on the answer, and the message's is freed.
      const done = policy.readDone(message);
      if (!done) return;
      for (const follower of followers.get(done.key) ?? []) follower({ generation: done.generation, outcome: done.outcome.duplicate() });
      done.outcome.free();
    } else {
      const event = policy.readWireEvent(message);
      if (event) for (const listener of listeners) listener({ event });
    }
  }));
  subscribed.then(() => {
    subscribedOnce = true;
  }, () => {});
  subscriber.on("ready", () => {
    // Whatever was published while the subscription was down is in the log.
    if (subscribedOnce) for (const listener of listeners) listener({ resync: true });
  });

  const window = {
    /**
     * `{refusal}` or `{waitedMs}`: `step`'s client's turn (`window.lua`, the
     * policy's fair rules for every server), Redis round trips included (as
     * the BFF's); a request that gives up leaves at once (`leave.lua`).
     */
    async acquire(step, deadline) {
      const turn = policy.sharedTurn(step, Date.now());
      const asked = clock();
      try {
        for (;;) {
          const said = turn.answered((await run("window", turn.askKeys(), turn.askArgs())).map(String));
          if (said === "admitted") return { waitedMs: clock() - asked };
          if (said === "spent") return { refusal: turn.spentRefusal() };
          const now = clock();
          if (now + turn.estimateMs > deadline) return { refusal: policy.failure("queue_timeout", turn.estimateMs) };
          await sleep(turn.napMs(deadline - now));
        }
      } catch {
        return { refusal: policy.failure("shared_state_unavailable", 0) };
      } finally {
        // Leaving without a turn frees the place at once, not when its lease ends.
        if (turn.waiting) run("leave", turn.leaveKeys(), turn.leaveArgs()).catch(() => {}).finally(() => turn.free());
        else turn.free();
      }
    },
    async pause(retryAfter) {
      const pause = policy.windowPause(clock(), retryAfter ?? undefined, false);
      await run("pause", [k(layout.keys.pause)], [Math.max(1, pause)]).catch(() => {});
      return pause;
    },
  };

  /**
   * One read through the shared cache: `{outcome, cache, ageMs}`. Held
   * answers are served at once (a stale one's refresh, when this request
   * found it due, runs on through `later`); the leader calls `forward`;
   * followers take the leader's answer from its message, and ask again with
   * backoff in case it was missed or the leader went away.
   */
  async function read(step, forward, later) {
    const slot = policy.sharedRead(step, randomBytes(8).toString("hex"), Date.now());
    const key = slot.key;
    const inbox = [];
    let wake = null;
    let handedOff = false;
    const follower = (done) => {
      inbox.push(done);
      wake?.();
    };
    // Listen before asking, so that an answer published in between is not missed.
    if (!followers.has(key)) followers.set(key, new Set());
    followers.get(key).add(follower);
    const deadline = clock() + layout.cache.lockTtlMs + 2_000;
    let backoff = FIRST_BACKOFF_MS;
    try {
      await subscribed;
      for (;;) {
        let kind;
        try {
          kind = slot.begun((await run("begin", slot.beginKeys(), slot.beginArgs())).map(String));
        } catch {
          return { outcome: policy.failure("shared_state_unavailable", 0), cache: "miss", ageMs: -1 };
        }
        if (kind === "hit" || kind === "stale") {
          const held = slot.held;
          const served = { outcome: held.outcome, cache: kind, ageMs: held.ageMs };
          held.free();
          if (slot.refresh) {
            // One refresh for every server; the answer is not awaited.
            handedOff = true;
            const own = step.duplicate();
            later((async () => {
              let outcome;
              try {
                outcome = await forward(own);
                await finish(slot, outcome, false);
              } finally {
                outcome?.free();
                own.free();
                slot.free();
              }
            })());
          }
          return served;
        }
        if (kind === "lead") {
          const outcome = await forward(step);
          await finish(slot, outcome, true);
          const fallback = slot.fallbackFor(outcome);
          if (!fallback) return { outcome, cache: "miss", ageMs: -1 };
          outcome.free();
          const served = { outcome: fallback.outcome, cache: "stale", ageMs: fallback.ageMs };
          fallback.free();
          return served;
        }
        const until = clock() + backoff;
        for (;;) {
          const done = inbox.shift();
          if (done) {
            if (slot.accepts(done.generation)) return { outcome: done.outcome, cache: "coalesced", ageMs: -1 };
            done.outcome.free();
            continue;
          }
          const left = until - clock();
          if (left <= 0) break;
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, left);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = null;
        }
        if (clock() > deadline) return { outcome: policy.failure("shared_state_unavailable", 0), cache: "miss", ageMs: -1 };
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    } finally {
      const set = followers.get(key);
      set?.delete(follower);
      if (set?.size === 0) followers.delete(key);
      for (const left of inbox.splice(0)) left.outcome.free();
      if (!handedOff) slot.free();
    }
  }

  /** Stores (successes only), unlocks and publishes; a failure only costs followers a few asks. */
  async function finish(slot, outcome, lead) {
    await run("finish", slot.finishKeys(), slot.finishArgs(outcome, lead)).catch(() => {});
  }

  /** What a write made stale, for every server (`invalidate.lua`). */
  async function invalidate({ keys, args }) {
    await run("invalidate", keys, args);
  }

  // The month's book every server shares (`quota.lua`), as last read: each
  // change is one run that reads it all back; between changes it is read
  // again at most every `readEveryMs`, in the background, when asked.
  let quotaReadAt = -Infinity;
  let quotaReading = false;
  const quota = async (op, value) => {
    try {
      const reply = await run("quota", layout.quota.keys, [op, value, layout.window.spanMs]);
      policy.sharedQuota(reply.map(String));
      quotaReadAt = clock();
    } catch {
      // Redis is away: the book as last read stands (as conferbot-bff's).
    }
  };
  const tick = () => {
    if (quotaReading || clock() - quotaReadAt < layout.quota.readEveryMs) return;
    quotaReading = true;
    quota("read", "").finally(() => {
      quotaReading = false;
    });
  };
  /** What an upstream answer taught the month, told to every server in order. */
  const account = async (step, outcome) => {
    const ops = policy.account(step, outcome, Date.now());
    for (let i = 0; i < ops.length; i += 2) await quota(ops[i], ops[i + 1]);
  };

  const events = {
    /**
     * Applies a delivery to the answers every server holds and logs it, once
     * however many servers receive its retries: the touched operations'
     * generations bumped and indexes read, the touched answers read, then
     * `publish.lua` with the patches the policy computed from them.
     */
    async publish(delivery) {
      const reads = policy.deliveryReads(delivery);
      const replies = await Promise.all(reads.map((name, i) => command([i % 2 === 0 ? "INCR" : "SMEMBERS", name])));
      const members = replies.filter(Array.isArray).flat().map(String);
      const names = policy.deliveryTouched(delivery, members);
      const answers = await Promise.all(names.map((name) => command(["HGET", name, "answer"])));
      const script = policy.deliveryPublish(delivery, answers);
      if (!script) return 0;
      return Number(await run("publish", script.keys, script.args));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async replayAfter(last) {
      const start = last === undefined ? "-" : `(${last}-0`;
      const [latestText, entries] = await Promise.all([
        command(["GET", k(layout.keys.eventsSeq)]),
        command(["XRANGE", k(layout.keys.eventsLog), start, "+", "COUNT", layout.events.capacity + 100]),
      ]);
      const latest = Number(latestText ?? 0);
      const list = entries.map(([id, fields]) => policy.readEntry(id, fields.map(String))).filter(Boolean);
      const first = list.length > 0 ? list[0].id : latest + 1;
      return { events: list, truncated: policy.replayTruncated(last, first, latest), latest };
    },
    async latest() {
      return Number((await command(["GET", k(layout.keys.eventsSeq)])) ?? 0);
    },
  };

  return { window, read, invalidate, events, tick, account };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or a rejection after COMMAND_TIMEOUT_MS. */
function within(promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("redis did not answer in time")), COMMAND_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
