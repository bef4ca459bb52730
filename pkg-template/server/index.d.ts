// `conferbot-wasm/server`: the BFF's policy as a fetch handler for your own
// server (Node, Express, Hono, Next.js, Deno, Bun, Cloudflare Workers).

/**
 * The handler: answers every request under its mount (the API, `{mount}/events`
 * and the webhook receiver) exactly as `conferbot-bff` would, and `404` to every
 * other path. Arguments after the request are the runtime's context: one with a
 * `waitUntil` method (workerd's `fetch(request, env, ctx)`, Hono's
 * `c.executionCtx`) keeps a stale answer's background refresh alive after the answer.
 */
export type ConferbotHandler = (request: Request, ...context: unknown[]) => Promise<Response>;

/** What `authorize` answers. */
export type AuthorizeAnswer = boolean | { readonly user?: string; readonly status?: number };

/** A runtime context that keeps work alive after the answer (workerd's `ExecutionContext`). */
export interface WaitUntilContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** Shared state for many instances: `redisStore({ url })` from `conferbot-wasm/server/redis`. */
export interface ConferbotStore {
  /** Called once by `createConferbotHandler`. */
  attach(policy: object, glue: object): object;
  /** Ends the store's connections. */
  close(): Promise<void>;
}

/**
 * The handler's options. Every one but `apiKey`, `webhookSecret`, `fetch`,
 * `store`, `waitUntil` and `authorize` is a flag of `conferbot-bff`, with the
 * same default (durations in ms).
 */
export interface ConferbotHandlerOptions {
  /** The Conferbot API key. Required; it never leaves the server. */
  apiKey: string;
  /** The webhook secret: signed deliveries to the receiver are verified with it (without it they are refused, `503`). */
  webhookSecret?: string;
  /** The upstream transport. Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Shared state (rate window, cache, the month's book, event log) for several instances. Default: in this process. */
  store?: ConferbotStore;
  /**
   * Keeps background work (a stale answer's refresh) alive after the answer, for
   * runtimes with a global hook (Vercel's `waitUntil`, Next.js's `after`). A
   * request's own context (`ctx.waitUntil`) comes first; without either, the
   * handler holds the promise itself (Node, Deno, Bun run it to its end).
   */
  waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * Who may use the handler (it spends the key): asked before every request
   * under the mount but CORS preflights and the webhook receiver, with the
   * request as your server gave it (a fetch `Request`, or Node's
   * `IncomingMessage` under `toNodeListener`). `true` or `{ user }` lets it in
   * (the user is the client the rate window is fair between), `false` or
   * `{ status: 401 | 403 }` refuses it; anything else, a throw, or no answer
   * within `authTimeoutMs` refuses it with `503`, as `--auth-url` does.
   */
  authorize?: (request: unknown) => AuthorizeAnswer | Promise<AuthorizeAnswer>;
/* OPTIONS: written by cargo xtask dist from the policy's option table */
}

/** Makes the handler. Throws a `TypeError` naming the option for bad options, and refuses to run in a browser. */
export function createConferbotHandler(options: ConferbotHandlerOptions): ConferbotHandler;

/**
 * Whether `signature` (the `x-webhook-signature` header) is the HMAC-SHA256 of `rawBody` under `secret`,
 * checked in constant time. Pass the body exactly as received (a string, or its bytes), before JSON
 * parsing. A malformed signature is `false`; arguments of the wrong type throw a `TypeError`. Server only:
 * the webhook's secret must never reach a browser (the browser build throws).
 */
export function verifyWebhookSignature(rawBody: string | Uint8Array, signature: string, secret: string | Uint8Array): boolean;

/** One option of the table the options are read by: its name, the flag it mirrors, its default (absent when derived) and help. */
export interface HandlerOption {
  readonly name: string;
  readonly flag: string;
  readonly default?: string | number | boolean | readonly string[];
  readonly doc: string;
}

/** The options and their defaults, as the policy states them. */
export const handlerOptions: readonly HandlerOption[];

/** What `toNodeListener` reads of a request: Node's `IncomingMessage` (and Express's `Request`) fit. */
export interface NodeRequest extends AsyncIterable<Uint8Array> {
  readonly method?: string;
  readonly url?: string;
  readonly originalUrl?: string;
  readonly headers: { readonly [name: string]: string | string[] | undefined };
}

/** What `toNodeListener` writes to: Node's `ServerResponse` fits. */
export interface NodeResponse {
  readonly headersSent: boolean;
  writeHead(status: number, headers: string[]): unknown;
  flushHeaders(): void;
  write(chunk: string): boolean;
  end(chunk?: Uint8Array | string): unknown;
  destroy(error?: Error): unknown;
  on(event: "close", listener: () => void): unknown;
}

/** A Node listener, also an Express/Connect middleware (`next` gets requests outside the handler's paths). */
export type NodeListener = (request: NodeRequest, response: NodeResponse, next?: (error?: unknown) => void) => void;

/** The handler as a Node listener: `http.createServer(toNodeListener(h))`, `app.use(toNodeListener(h))`. */
export function toNodeListener(handler: ConferbotHandler): NodeListener;
