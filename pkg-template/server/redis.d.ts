// `conferbot-wasm/server/redis`: shared state through Redis (install `redis`).
import type { ConferbotStore } from "./index.js";

/** Where the store connects: a Redis URL, or a node-redis client you made (not yet connected). */
export type RedisStoreOptions = { readonly url: string } | { readonly client: object };

/**
 * A store for `createConferbotHandler({ store })`: handlers and `conferbot-bff`
 * replicas on one Redis with the same key share one rate window, one cache and
 * one event log. One store per handler.
 */
export function redisStore(options: RedisStoreOptions): ConferbotStore;
