// What every Conferbot widget does the same way: where its client points,
// loading with a visible status, failing in words with a Retry button, and
// retrying by itself after a rate limit.

import { ConferbotClient } from "./package.js";

import { h, replaceChildren } from "./dom.js";
import { describeError } from "./error-wording.js";
import { LIVE_STATE_WORDS, subscribe } from "./live-events.js";
import { publishQuota } from "./quota-feed.js";
import { baseSheet } from "./styles.js";

/** Where the backend-for-frontend answers unless `base-url` says otherwise. */
export const DEFAULT_BASE_URL = "/api/conferbot";

/**
 * Retries the client makes silently before a widget shows a failure. Zero by
 * default: the widget shows what happened and retries visibly instead of
 * leaving a person looking at "Loading…" through a minute-long Retry-After.
 */
const DEFAULT_MAX_RETRIES = 0;

/** @typedef {import("./package.js").ConferbotEvent} ConferbotEvent */
/** @typedef {import("./live-events.js").LiveState} LiveState */

/**
 * A widget: a shadow root with a header (title and Refresh), an error panel,
 * the widget's own body and a status line. Subclasses implement
 * {@link ConferbotElement#fetchView} and {@link ConferbotElement#renderView}.
 *
 * Attributes: `base-url` (the BFF's base, default `/api/conferbot`),
 * `max-retries` (silent client retries, default 0), `timeout-ms`.
 *
 * @template View what one load fetches
 */
export class ConferbotElement extends HTMLElement {
  static observedAttributes = ["base-url", "max-retries", "timeout-ms"];

  /** @type {ConferbotClient | null} */
  #client = null;
  /** Counts loads, so the answer to an older one is dropped when a newer one was started. */
  #generation = 0;
  /** @type {AbortController | null} cancels the load in flight when a newer one starts */
  #inFlight = null;
  /** Whether the load in flight shows itself (dims the body, says what it loads). */
  #inFlightLoud = false;
  /** @type {number | undefined} */
  #retryTimer;
  #started = false;
  /** @type {(() => void) | null} ends this widget's share of the live events */
  #unsubscribe = null;

  /** The body the subclass fills. */
  body = h("div", { class: "body", part: "body" });
  /** @type {HTMLElement} the one polite live region: what is loading, what was shown. */
  #status = h("p", { class: "status", part: "status", role: "status" });
  /** @type {HTMLElement} the visible error sentence (updated by the countdown). */
  #errorText = h("p", { class: "error-text" });
  /** @type {HTMLElement} announces an error once, without re-reading every countdown tick. */
  #errorAnnouncement = h("div", { class: "visually-hidden", role: "alert" });
  /** @type {HTMLButtonElement} */
  #retryButton = h("button", { type: "button", class: "retry", onclick: () => this.reload() }, "Retry");
  /** @type {HTMLElement} */
  #errorPanel = h("div", { class: "error", part: "error", hidden: true }, this.#errorText, this.#retryButton);
  /**
   * @type {HTMLElement} the live-updates indicator (widgets that follow live
   * events): a polite status, so a change is said once and blocks nothing.
   */
  #live = h("p", { class: "live", part: "live", role: "status", hidden: true, "data-state": "off" },
    h("span", { class: "live-dot", "aria-hidden": "true" }), h("span", { class: "live-text" }));
  /** @type {HTMLButtonElement} */
  #refreshButton = h("button", { type: "button", class: "refresh", part: "refresh", onclick: () => this.reload() }, "Refresh");

  /**
   * @param {string} title the widget's heading, also its landmark's name
   * @param {CSSStyleSheet[]} [styles] the widget's own styles, after the shared ones
   */
  constructor(title, styles = []) {
    super();
    const root = this.attachShadow({ mode: "open" });
    root.adoptedStyleSheets = [baseSheet, ...styles];
    const headingId = "heading";
    this.heading = h("h2", { id: headingId, part: "heading" }, title);
    root.append(
      h("section", { "aria-labelledby": headingId },
        h("header", {}, h("div", { class: "title" }, this.heading, this.#live), this.#refreshButton),
        this.#errorPanel,
        this.#errorAnnouncement,
        this.body,
        this.#status),
    );
  }

  /** The package's client for this widget's `base-url`, made on first use. */
  get client() {
    if (!this.#client) {
      const timeoutMs = numberAttribute(this, "timeout-ms");
      const baseUrl = this.baseUrl;
      this.#client = new ConferbotClient({
        baseUrl,
        maxRetries: numberAttribute(this, "max-retries") ?? DEFAULT_MAX_RETRIES,
        ...(timeoutMs === null ? {} : { timeoutMs }),
        // What every answer says of the quota, for the page's usage widgets.
        onQuota: (quota) => publishQuota(baseUrl, quota),
      });
    }
    return this.#client;
  }

  /** The BFF's base this widget's client talks to (`base-url`, default `/api/conferbot`). */
  get baseUrl() {
    return this.getAttribute("base-url") || DEFAULT_BASE_URL;
  }

  /** Whether the widget is on the page and has started loading (attribute changes before that wait for it). */
  get isStarted() {
    return this.#started;
  }

  connectedCallback() {
    this.#started = true;
    this.reload();
    this.#followLiveEvents();
  }

  disconnectedCallback() {
    this.#started = false;
    this.#generation += 1;
    this.#inFlight?.abort();
    this.#cancelRetry();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  /** Whether this widget follows the BFF's live events (and shows the indicator); off unless a subclass says so. */
  get followsLiveEvents() {
    return false;
  }

  /**
   * One live event from the BFF (`resync` included), for a widget that
   * {@link followsLiveEvents}. Does nothing unless overridden.
   * @param {ConferbotEvent} _event
   */
  onLiveEvent(_event) {}

  /** Joins the page's shared live-event subscription for this widget's `base-url`. */
  #followLiveEvents() {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (!this.followsLiveEvents || !this.#started) return;
    this.#live.hidden = false;
    this.#unsubscribe = subscribe(this.getAttribute("base-url") || DEFAULT_BASE_URL, {
      onEvent: (event) => this.onLiveEvent(event),
      onState: (state) => this.showLiveState(state),
    });
  }

  /**
   * Shows the live indicator in `state`, with the state's words unless
   * `words` says otherwise (a widget that is live by other means than the
   * event stream sets it itself).
   * @param {LiveState} state
   * @param {string} [words]
   */
  showLiveState(state, words = LIVE_STATE_WORDS[state]) {
    this.#live.hidden = false;
    this.#live.dataset.state = state;
    const text = this.#live.querySelector(".live-text");
    if (text) text.textContent = words;
  }

  /** Whether a load is in flight. */
  get isLoading() {
    return this.#inFlight !== null;
  }

  /**
   * Says `text` in the polite status line (what a live update brought, which
   * a quiet reload does not announce by itself).
   * @param {string} text
   */
  announce(text) {
    this.#status.textContent = text;
  }

  /**
   * A new base URL or client option: a new client, and a reload.
   * @param {string} name
   * @param {string | null} oldValue
   * @param {string | null} newValue
   */
  attributeChangedCallback(name, oldValue, newValue) {
    if (oldValue === newValue) return;
    this.#client?.free?.();
    this.#client = null;
    if (this.#started) this.reload();
    if (name === "base-url") this.#followLiveEvents();
  }

  /**
   * Fetches and shows the widget's data. Never throws: a failure shows in the
   * error panel, and a rate limit schedules the next attempt.
   *
   * `quiet` (a live update) neither dims the body, nor disables Refresh (which
   * would drop its keyboard focus), nor announces the result; it replaces a
   * quiet load in flight quietly, and a loud one loudly (that one's person is
   * still waiting for it).
   * @param {{quiet?: boolean}} [options]
   * @returns {Promise<boolean>} whether this load was shown (not replaced by a newer one, not failed)
   */
  async reload({ quiet = false } = {}) {
    const generation = ++this.#generation;
    const loud = !quiet || (this.#inFlight !== null && this.#inFlightLoud);
    this.#cancelRetry();
    this.#inFlight?.abort();
    const inFlight = new AbortController();
    this.#inFlight = inFlight;
    this.#inFlightLoud = loud;
    if (loud) {
      this.#setBusy(true);
      this.#status.textContent = this.loadingText();
    }
    try {
      const view = await this.fetchView(inFlight.signal);
      if (generation !== this.#generation) return false;
      this.#hideError();
      const summary = this.renderView(view);
      if (loud) this.#status.textContent = summary;
      return true;
    } catch (error) {
      if (generation !== this.#generation) return false;
      if (loud) this.#status.textContent = "";
      this.showLoadError(error);
      return false;
    } finally {
      if (generation === this.#generation) {
        this.#inFlight = null;
        this.#setBusy(false);
      }
    }
  }

  /**
   * Fetches what the widget shows.
   * @abstract
   * @param {AbortSignal} _signal aborted when a newer load starts or the widget leaves the page
   * @returns {Promise<View>}
   */
  async fetchView(_signal) {
    throw new Error("a widget must implement fetchView()");
  }

  /**
   * Shows what {@link fetchView} fetched.
   * @abstract
   * @param {View} _view
   * @returns {string} a short summary for the status line
   */
  renderView(_view) {
    throw new Error("a widget must implement renderView()");
  }

  /** What the status line says while loading. */
  loadingText() {
    return "Loading…";
  }

  /**
   * Shows a failed load in words, with Retry (every fault may clear: even a bad
   * key is fixed on the server); rate limits count down and retry by themselves.
   * @param {unknown} error
   */
  showLoadError(error) {
    const wording = describeError(error);
    this.#errorPanel.hidden = false;
    this.#retryButton.textContent = wording.retryInSeconds === null ? "Retry" : "Retry now";
    this.#errorText.textContent = wording.text;
    this.#errorAnnouncement.textContent = wording.text;
    if (wording.retryInSeconds !== null) this.#countDown(wording.retryInSeconds, wording.text);
  }

  /**
   * Updates the visible "retrying in N s" every second, then reloads.
   * @param {number} seconds
   * @param {string} firstText the sentence for `seconds`, whose number is replaced as time passes
   */
  #countDown(seconds, firstText) {
    let left = seconds;
    const tick = () => {
      left -= 1;
      if (left <= 0) {
        this.#retryTimer = undefined;
        this.reload();
        return;
      }
      this.#errorText.textContent = firstText.replace(`retrying in ${seconds} s`, `retrying in ${left} s`);
      this.#retryTimer = window.setTimeout(tick, 1000);
    };
    this.#retryTimer = window.setTimeout(tick, 1000);
  }

  #cancelRetry() {
    if (this.#retryTimer !== undefined) window.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #hideError() {
    this.#errorPanel.hidden = true;
    replaceChildren(this.#errorText);
    replaceChildren(this.#errorAnnouncement);
  }

  /** @param {boolean} busy */
  #setBusy(busy) {
    this.body.setAttribute("aria-busy", String(busy));
    this.#refreshButton.disabled = busy;
  }
}

/**
 * A non-negative integer attribute, or `null` when absent or not a number.
 * @param {Element} element
 * @param {string} name
 */
function numberAttribute(element, name) {
  const raw = element.getAttribute(name);
  if (raw === null || raw.trim() === "") return null;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : null;
}
