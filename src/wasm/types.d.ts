/** What went wrong, coarse enough to branch on (`error.kind`). */
export type ConferbotErrorKind =
  | "invalid_request"
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "rate_limited"
  | "server"
  | "network"
  | "timeout"
  | "aborted"
  | "decode";

/**
 * Every failure of a call rejects with a `ConferbotError`
 * (`e instanceof ConferbotError && e instanceof Error`).
 */
export class ConferbotError extends Error {
  constructor(
    kind: ConferbotErrorKind,
    message: string,
    fields?: { status?: number | null; detail?: string | null; retryAfter?: number | null },
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
}

/** The documented plans; a plan added later arrives as its name. */
export type Plan = "Free" | "Starter" | "Pro" | "Business" | "Enterprise" | (string & {});

/** The documented webhook events (the only ones `createWebhook` accepts). */
export type KnownWebhookEvent =
  | "response.created"
  | "response.updated"
  | "conversation.started"
  | "conversation.completed";

/** A webhook event; an event added later arrives as its name. */
export type WebhookEvent = KnownWebhookEvent | (string & {});

/** Any JSON value (a response's answers). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A chatbot of the workspace. */
export interface Chatbot {
  id: string;
  name: string;
  /** `"active"`, `"inactive"`, … as the server writes it. */
  status: string;
  responseCount: number;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601. */
  updatedAt: string;
}

/** One response (a filled-in conversation) a chatbot collected. */
export interface ChatbotResponse {
  id: string;
  chatbotId: string;
  status: string;
  answers: Record<string, JsonValue>;
  createdAt: string;
  updatedAt: string;
}

/** This month's API usage. `limit` and `remaining` are `null` when unlimited (Enterprise). */
export interface Usage {
  /** `YYYY-MM`. */
  month: string;
  plan: Plan;
  used: number;
  limit: number | null;
  remaining: number | null;
}

/** A registered webhook. */
export interface Webhook {
  id: string;
  url: string;
  events: WebhookEvent[];
  active: boolean;
  /** The signing secret: only in the answer to `createWebhook`. */
  secret?: string;
  createdAt: string;
}

/** What `createWebhook` registers. */
export interface NewWebhook {
  /** An absolute http(s) URL. */
  url: string;
  /** One or more documented events, without repeats. */
  events: KnownWebhookEvent[];
}

/**
 * One live event from the BFF (`client.events()`): an accepted webhook
 * delivery, or `"resync"` when events were missed that the BFF no longer
 * keeps (load what you show again).
 */
export interface ConferbotEvent {
  /** Which event; one added later arrives as its name. */
  type: WebhookEvent | "resync";
  /** Its id on the stream (what a reconnection sends as `Last-Event-ID`). */
  id: string;
  /** When it was dispatched, ISO 8601 as Conferbot wrote it; `null` when not said (and for `"resync"`). */
  timestamp: string | null;
  /**
   * What it carries: for a webhook event the delivery's flat body (`event`, `botId`,
   * `responseId`, `chatSessionId`, `visitorId`, `timestamp`: ids only, never the
   * response's content; fields added later are kept); for `"resync"`, `reason`.
   */
  data: { [key: string]: JsonValue };
}

/** Options of `client.events()`. */
export interface EventOptions {
  /** Aborting it ends the iteration (without an error) and closes the stream. */
  signal?: AbortSignal;
  /** Time each connection may take to answer, in ms; the stream itself stays open. */
  timeoutMs?: number;
}

/** One page of a list. */
export interface Page<T> {
  /** The items of this page. */
  readonly data: T[];
  /** Items in the whole list, or `null` when the server did not say. */
  readonly total: number | null;
  /** This page's number, from 1. */
  readonly page: number;
  /** Pages in the whole list, or `null` when the server did not say. */
  readonly totalPages: number | null;
  /** Whether another page follows. */
  hasNextPage(): boolean;
  /** The next page (same size and options); rejects with `invalid_request` when there is none. */
  getNextPage(): Promise<Page<T>>;
  /** Releases the page's wasm memory now instead of at garbage collection (optional). */
  free(): void;
}

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
}
