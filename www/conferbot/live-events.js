// One live-event subscription per BFF, shared by every widget on the page.
//
// The BFF pushes the Conferbot webhooks it receives as Server-Sent Events
// (`GET {base-url}/events`); the package reads them as an async iterable
// (`client.events()`) that reconnects by itself with `Last-Event-ID`. This
// module opens that stream once per base URL when the first widget
// subscribes, hands each event to every subscriber, and closes it (through
// an AbortController) when the last one leaves. The stream costs no call to
// the Conferbot API: a widget applies what an event says where it can, and
// reads only what an event names but does not carry (a new response's answers).
//
// What subscribers are told about the stream (`LiveState`):
//   connecting    the stream is being opened
//   on            it is open: it answered an event, or did not refuse within CONNECTED_AFTER_MS
//   reconnecting  the browser is offline, or the stream ended; the package reopens it
//   off           the BFF does not send events (404: it has no webhook secret), or refused them

import { ConferbotClient, ConferbotError } from "./package.js";

/** @typedef {import("./package.js").ConferbotEvent} ConferbotEvent */
/** @typedef {"connecting" | "on" | "reconnecting" | "off"} LiveState */
/**
 * What a widget gives {@link subscribe}.
 * @typedef {object} LiveSubscriber
 * @property {(event: ConferbotEvent) => void} [onEvent] each event, `resync` included
 * @property {(state: LiveState) => void} [onState] the stream's state, at once and on every change
 */

/**
 * A stream that has not refused within this time is taken as open: the
 * package says nothing until the first event, and a refusal (404) comes at once.
 */
const CONNECTED_AFTER_MS = 1500;
/** After a refusal that may clear (not a 404), the stream is tried again this much later. */
const RETRY_REFUSED_AFTER_MS = 30_000;

/** The open subscriptions, by base URL. @type {Map<string, LiveHub>} */
const hubs = new Map();

/**
 * Subscribes to the live events of the BFF at `baseUrl`; the first
 * subscriber opens the stream, the last one to leave closes it.
 * @param {string} baseUrl the widgets' `base-url`
 * @param {LiveSubscriber} subscriber
 * @returns {() => void} unsubscribes
 */
export function subscribe(baseUrl, subscriber) {
  let hub = hubs.get(baseUrl);
  if (!hub) {
    hub = new LiveHub(baseUrl);
    hubs.set(baseUrl, hub);
  }
  const joined = hub;
  joined.add(subscriber);
  let subscribed = true;
  return () => {
    if (!subscribed) return;
    subscribed = false;
    if (joined.remove(subscriber) === 0) {
      joined.close();
      if (hubs.get(baseUrl) === joined) hubs.delete(baseUrl);
    }
  };
}

/** What a state says, for the indicator (also its accessible text). */
export const LIVE_STATE_WORDS = /** @type {const} */ ({
  connecting: "Connecting to live updates…",
  on: "Live updates on",
  reconnecting: "Live updates paused — reconnecting",
  off: "Live updates off",
});

/** One stream, and who listens to it. */
class LiveHub {
  /** @type {Set<LiveSubscriber>} */
  #subscribers = new Set();
  /** @type {LiveState} */
  #state = "connecting";
  #controller = new AbortController();
  /** @type {ConferbotClient | null} */
  #client;
  /** @type {number | undefined} */
  #timer;

  /** @param {string} baseUrl */
  constructor(baseUrl) {
    this.#client = new ConferbotClient({ baseUrl, maxRetries: 0 });
    const { signal } = this.#controller;
    window.addEventListener("offline", () => {
      if (this.#state !== "off") this.#setState("reconnecting");
    }, { signal });
    window.addEventListener("online", () => this.#expectOpen(), { signal });
    this.#run();
  }

  /** @param {LiveSubscriber} subscriber */
  add(subscriber) {
    this.#subscribers.add(subscriber);
    subscriber.onState?.(this.#state);
  }

  /**
   * @param {LiveSubscriber} subscriber
   * @returns {number} how many are left
   */
  remove(subscriber) {
    this.#subscribers.delete(subscriber);
    return this.#subscribers.size;
  }

  /** Ends the stream and frees the client. */
  close() {
    this.#controller.abort();
    window.clearTimeout(this.#timer);
    this.#client?.free?.();
    this.#client = null;
  }

  /** Reads the stream until it is closed, or refused for good. */
  async #run() {
    const { signal } = this.#controller;
    while (!signal.aborted && this.#client) {
      this.#setState(navigator.onLine === false ? "reconnecting" : "connecting");
      this.#expectOpen();
      try {
        for await (const event of this.#client.events({ signal })) {
          this.#setState("on");
          for (const subscriber of [...this.#subscribers]) {
            try {
              subscriber.onEvent?.(event);
            } catch (error) {
              console.error("a live-event subscriber failed:", error);
            }
          }
        }
        if (signal.aborted) return;
        // The iteration ended without being asked to: open it again.
        this.#setState("reconnecting");
      } catch (error) {
        if (signal.aborted) return;
        window.clearTimeout(this.#timer);
        this.#setState(error instanceof ConferbotError && error.kind !== "not_found" ? "reconnecting" : "off");
        if (this.#state === "off") return;
        if (!(await sleep(RETRY_REFUSED_AFTER_MS, signal))) return;
      }
    }
  }

  /** Takes the stream as open unless it refuses (or an event arrives) first. */
  #expectOpen() {
    window.clearTimeout(this.#timer);
    if (this.#state === "off") return;
    if (this.#state !== "on") this.#setState("connecting");
    this.#timer = window.setTimeout(() => {
      if (this.#state === "connecting") this.#setState("on");
    }, CONNECTED_AFTER_MS);
  }

  /** @param {LiveState} state */
  #setState(state) {
    if (state === this.#state) return;
    this.#state = state;
    for (const subscriber of [...this.#subscribers]) subscriber.onState?.(state);
  }
}

/**
 * Waits `ms`; `false` when `signal` aborted first.
 * @param {number} ms
 * @param {AbortSignal} signal
 * @returns {Promise<boolean>}
 */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = window.setTimeout(() => resolve(true), ms);
    signal.addEventListener("abort", () => {
      window.clearTimeout(timer);
      resolve(false);
    }, { once: true });
  });
}
