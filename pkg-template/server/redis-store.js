// `conferbot-wasm/server/redis`: state shared through Redis, so that several
// handlers (Node processes, serverless instances) and conferbot-bff replicas
// with the same API key share one rate window, one cache with its
// coalescing, and one event log. The key names, the Lua scripts, the numbers
// they take and the JSON they exchange all come from the policy (the same
// crate conferbot-bff uses); this file only runs them, over the `redis`
// package (node-redis), which you install beside this one.
//
// Like conferbot-bff, it fails closed: while Redis does not answer, requests
// that need the upstream get 503 with Retry-After, never unshaped traffic.
import { createHash, randomBytes } from "node:crypto";

import { createClient } from "redis";

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
    attach(policy, glue, apiKey) {
      if (attached) throw new Error("a redisStore serves one handler; make one per handler");
      attached = true;
      return shared(policy, apiKey, commands, subscriber, connected);
    },
    async close() {
      await Promise.allSettled([subscriber.quit?.() ?? subscriber.close(), commands.quit?.() ?? commands.close()]);
    },
  };
}

function shared(policy, apiKey, commands, subscriber, connected) {
  const layout = policy.sharedLayout(apiKey);
  const k = (name) => layout.prefix + name;
  const clock = () => performance.now();
  const scripts = Object.fromEntries(Object.entries(layout.scripts).map(([name, text]) => [name, { text, sha: createHash("sha1").update(text).digest("hex") }]));

  const command = (args) => within(connected.then(() => commands.sendCommand(args.map(String))));
  /** EVALSHA, and EVAL once when Redis does not know the script yet. */
  const run = async (name, keys, args) => {
    const { text, sha } = scripts[name];
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
      const done = policy.readDone(message);
      if (done) for (const follower of followers.get(done.key) ?? []) follower(done);
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
    async acquire(deadline) {
      let ticket = 0;
      try {
        for (;;) {
          const [admitted, wait, rank, number] = (await run("window", layout.keys.windowKeys.map(k), [ticket, layout.window.max, layout.window.spanMs, layout.window.leaseMs])).map(Number);
          ticket = number;
          if (admitted === 1) {
            ticket = 0;
            return null;
          }
          const now = clock();
          if (now + wait > deadline) return policy.failure("queue_timeout", wait);
          await sleep(policy.sharedNap(wait, rank, deadline - now));
        }
      } catch {
        return policy.failure("shared_state_unavailable", 0);
      } finally {
        // Leaving without a turn frees the place at once, not when its lease ends.
        if (ticket) command(["ZREM", k(layout.keys.queue), ticket]).then(() => command(["ZREM", k(layout.keys.leases), ticket])).catch(() => {});
      }
    },
    async pause(retryAfter) {
      const pause = policy.windowPause(clock(), retryAfter ?? undefined, false);
      await run("pause", [k(layout.keys.pause)], [Math.max(1, pause)]).catch(() => {});
      return pause;
    },
  };

  const cacheKeys = (key) => [k(layout.keys.cache + key), k(layout.keys.lock + key), k(layout.keys.generation)];

  async function read(step, fetch) {
    const key = step.cacheKey;
    const token = randomBytes(8).toString("hex");
    const inbox = [];
    let wake = null;
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
        let begun;
        try {
          begun = await run("begin", cacheKeys(key), [token, layout.cache.lockTtlMs]);
        } catch {
          return { outcome: policy.failure("shared_state_unavailable", 0), cache: "miss" };
        }
        const [kind, value] = begun;
        let generation = Number(value) || 0;
        if (kind === "hit") {
          const outcome = policy.fromWire(String(value));
          if (outcome) return { outcome, cache: "hit" };
          generation = 0;
        } else if (kind === "lead") {
          const outcome = await fetch();
          await finish(step, key, token, String(value), outcome);
          return { outcome, cache: "miss" };
        }
        const until = clock() + backoff;
        for (;;) {
          const done = inbox.shift();
          if (done) {
            if (done.generation >= generation) return { outcome: done.outcome, cache: "coalesced" };
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
        if (clock() > deadline) return { outcome: policy.failure("shared_state_unavailable", 0), cache: "miss" };
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    } finally {
      const set = followers.get(key);
      set?.delete(follower);
      if (set?.size === 0) followers.delete(key);
    }
  }

  /** Stores (successes only), unlocks and publishes; a failure only costs followers a few asks. */
  async function finish(step, key, token, generation, outcome) {
    const ttl = outcome.isSuccess ? layout.cache.ttlMs : 0;
    const keys = [...cacheKeys(key), k(step.indexKey)];
    const args = [token, generation, ttl, policy.toWire(outcome), k(layout.keys.doneChannel), policy.doneMessage(key, Number(generation), outcome)];
    await run("finish", keys, args).catch(() => {});
  }

  async function invalidate(pairs) {
    const keys = [k(layout.keys.generation)];
    const args = [];
    for (let i = 0; i < pairs.length; i += 2) {
      keys.push(k(pairs[i]));
      args.push(pairs[i + 1]);
    }
    args.push(layout.prefix);
    await run("invalidate", keys, args);
  }

  const events = {
    async publish(delivery) {
      const keys = [k(layout.keys.eventsSeq), k(layout.keys.eventsLog), k(layout.keys.eventsSeen + delivery.dedup)];
      const args = [delivery.event, delivery.data, layout.events.capacity, k(layout.keys.eventsChannel), Math.max(1, layout.events.dedupWindowMs)];
      return Number(await run("publish", keys, args));
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

  return { window, read, invalidate, events };
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
