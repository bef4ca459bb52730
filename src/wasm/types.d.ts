/**
 * Every failure of a call rejects with a `ConferbotError`
 * (`e instanceof ConferbotError && e instanceof Error`).
 */
export class ConferbotError extends Error {
  constructor(
    kind: ConferbotErrorKind,
    message: string,
    fields?: {
      status?: number | null;
      detail?: string | null;
      retryAfter?: number | null;
      headers?: Headers | null;
      requestId?: string | null;
      quota?: Quota | null;
    },
  );
  readonly name: "ConferbotError";
  /** What went wrong. */
  readonly kind: ConferbotErrorKind;
  /** The HTTP status, when an answer arrived. */
  readonly status: number | null;
  /** The server's longer explanation (`message` in its JSON), when it gave one. */
  readonly detail: string | null;
  /** Seconds the server asked to wait (`Retry-After`), when it said. */
  readonly retryAfter: number | null;
  /** The answer's headers, when the server answered (`null` for failures before or without an answer). */
  readonly headers: Headers | null;
  /** The answer's `x-request-id` header, when the server sent one: quote it when reporting a problem. */
  readonly requestId: string | null;
  /**
   * What the answer's quota headers said (a BFF or the package's server half
   * sends them), when it had them: a spent month's 429 says when it resets.
   */
  readonly quota: Quota | null;
}

/**
 * What a BFF (`conferbot-bff` or the package's server half) says of the
 * upstream quota on every answer, from its `x-quota-*` headers. A value the
 * server did not send, or sent in another form, is `null`.
 */
export interface Quota {
  /** The per-minute window the API allows (60 calls a minute). */
  minute: {
    /** Calls the window allows. */
    limit: number | null;
    /** Calls it would admit now. */
    remaining: number | null;
    /** Seconds until it has room again (0 when it has now). */
    reset: number | null;
  };
  /** The month, once the server has learned the plan (from a `getUsage`); `null` before. */
  month: {
    /** The month's call limit; `null` for an unlimited plan. */
    limit: number | null;
    /** Calls used this month, as the server last learned and counted them. */
    used: number | null;
    /** Calls left this month; `null` for an unlimited plan. */
    remaining: number | null;
    /** When the month turns, ISO 8601 UTC. */
    reset: string | null;
  } | null;
  /** Milliseconds this request waited in the server's queue for the rate window (0 when it did not). */
  queuedMs: number;
}

/**
 * Told what each answer's quota headers say (answers without them tell
 * nothing), e.g. to feed `<conferbot-usage>`'s `applyQuota`. It only
 * observes, like {@link RetryHook}.
 */
export type QuotaHook = (quota: Quota) => void;

/** Any JSON value (a response's answers). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What `createWebhook` registers. */
export interface NewWebhook {
  /** An absolute http(s) URL. */
  url: string;
  /** One or more documented events, without repeats. */
  events: KnownWebhookEvent[];
}

/** Options of `client.events()`. */
export interface EventOptions {
  /** Aborting it ends the iteration (without an error) and closes the stream. */
  signal?: AbortSignal;
  /** Time each connection may take to answer, in ms; the stream itself stays open. */
  timeoutMs?: number;
}

/** One page of a list; `for await` over it walks its items and every later page's. */
export interface Page<T> extends AsyncIterable<T> {
  /** The items of this page. */
  readonly data: T[];
  /** Items in the whole list, or `null` when the server did not say. */
  readonly total: number | null;
  /** This page's number, from 1. */
  readonly page: number;
  /** Pages in the whole list, or `null` when the server did not say. */
  readonly totalPages: number | null;
  /** What the page's answer said of the quota (see {@link Quota}), or `null` when it said nothing. */
  readonly quota: Quota | null;
  /** Whether another page follows. */
  hasNextPage(): boolean;
  /** The next page (same size and options); rejects with `invalid_request` when there is none. */
  getNextPage(): PagePromise<T>;
  /** This page, then every later one, each fetched when the loop asks for it. */
  iterPages(): AsyncIterable<Page<T>>;
  /** Releases the page's wasm memory now instead of at garbage collection (optional); it cannot fetch on after. */
  free(): void;
}

/**
 * What a list call answers: a promise of its first page that is also
 * async-iterable over every item of the list, page after page
 * (`for await (const bot of client.listChatbots({ limit: 100 }))`).
 */
export interface PagePromise<T> extends Promise<Page<T>>, AsyncIterable<T> {}

/** Which page, and how many items per page (1 to 100, default 20). */
export interface ListParams {
  page?: number;
  limit?: number;
}

/**
 * What `onRetry` is told before the client waits to retry a failed attempt
 * (after `Retry-After` for a 429, with backoff after a GET's 5xx, network
 * error or timeout).
 */
export interface RetryInfo {
  /** The attempt that failed, from 1 (the first request); the next one is `attempt + 1`. */
  attempt: number;
  /** How long the client waits before the next attempt, in ms. */
  waitMs: number;
  /** Why the attempt failed (`kind` `rate_limited`, `server`, `network` or `timeout`). */
  error: ConferbotError;
}

/**
 * Called before each wait between attempts, to show it (a progress line's
 * "waiting 23 s for the rate limit"). It only observes: what it returns is
 * ignored, and what it throws (or a promise it returns rejecting) is swallowed.
 */
export type RetryHook = (retry: RetryInfo) => void;

/** Options of one call, over the client's. */
export interface RequestOptions {
  /** Aborting it rejects the call with kind `aborted`, promptly, even between retries. */
  signal?: AbortSignal;
  /** Time one attempt may take, in ms (kind `timeout`). */
  timeoutMs?: number;
  /** Retries after the first attempt (0 to 10). */
  maxRetries?: number;
  /** Told before each wait between attempts of this call, instead of the client's `onRetry`. */
  onRetry?: RetryHook;
  /** Told what this call's answers say of the quota, instead of the client's `onQuota`. */
  onQuota?: QuotaHook;
}

/** How a client talks to the API. */
export interface ClientOptions {
  /**
   * The BFF (default `/api/conferbot` on the page's origin in browsers) or,
   * with `apiKey`, the API (default `https://api-v2.conferbot.com/api/v1`).
   * Required in Node unless `apiKey` is given.
   */
  baseUrl?: string;
  /** Direct mode (Node scripts): sent as `x-api-key`. Refused in browsers unless `dangerouslyAllowBrowser`. */
  apiKey?: string;
  /** Lets a browser send `apiKey`, which every visitor of the page can then read. */
  dangerouslyAllowBrowser?: boolean;
  /** Time one attempt may take, in ms (default 30000). */
  timeoutMs?: number;
  /** Retries after the first attempt (0 to 10, default 2). */
  maxRetries?: number;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
  /** Told before each wait between attempts of every call (a call's own `onRetry` replaces it). */
  onRetry?: RetryHook;
  /** Told what every answer says of the quota (a call's own `onQuota` replaces it). */
  onQuota?: QuotaHook;
}
