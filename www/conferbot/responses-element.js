// <conferbot-responses chatbot-id="…">: a chatbot's responses, newest first,
// a page at a time (the same pager as <conferbot-chatbots>), each with its
// answers, whatever JSON they are.
//
// Attributes (besides the shared ones in element-base.js):
//   chatbot-id    whose responses (24 hex digits); without it the widget asks
//                 for a chatbot to be chosen and reads nothing.
//   chatbot-name  shown in the heading (optional; the widget does not spend a
//                 call to learn it).
//   page-size     responses per page, 1..100 (default 20); the person can change it.
//
// Live: an event names ids only, never a response's content. A
// `response.created` for this chatbot shows the new response at once from the
// event itself, with no read: a row at the top of page 1 with its time,
// visitor and session, marked "New", its answers said to load with the next
// refresh. Such pending rows stay at the top until a read of page 1 holds
// that response (then its real row replaces it: merged by id, never shown
// twice), since a server answers a busy chatbot's responses from a copy it
// refreshes on a budget (conferbot-bff's --refresh-budget): reading on every
// event would cost the month's quota, and would not show it sooner. On a
// later page the widget counts the new responses and offers "Show newest". A
// `response.updated` marks its row "Updated" and re-reads the page shown.
// `resync` re-reads the page shown. Conversation events change nothing shown.

import { h, replaceChildren } from "./dom.js";
import { answersList, answersSheet } from "./answer-view.js";
import { ConferbotElement } from "./element-base.js";
import { formatCount, formatDateTime, formatNumber } from "./format.js";
import { MAX_PAGE_SIZE, Pager, pagerSheet, pageSizeAttribute, plainPage } from "./pager.js";
import { sheet } from "./styles.js";

/** @typedef {import("./package.js").ConferbotEvent} ConferbotEvent */
/** @typedef {import("./package.js").ChatbotResponse} ChatbotResponse */
/** @typedef {import("./pager.js").PlainPage<ChatbotResponse>} ResponsePage */
/** @typedef {"new" | "updated"} News */
/**
 * A response an event announced, not yet in a read: what the event says of it.
 * @typedef {{id: string, createdAt: string, visitorId: string, chatSessionId: string}} Pending
 */

/**
 * Events that arrive within this time make one read. Fixed, not random: the
 * viewers in every tab get an event within milliseconds of each other and
 * should reach the BFF together, where their reads become one.
 */
const LIVE_READ_DELAY_MS = 50;
/** What a pending row says of its answers. */
export const PENDING_ANSWERS = "Answers load with the next refresh.";

const styles = sheet(`
  .prompt { margin: 0.5rem 0; color: var(--conferbot-muted, #5b6576); }
  .news {
    display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 0.75rem;
    margin: 0 0 0.5rem; padding: 0.4rem 0.7rem;
    border-radius: calc(var(--conferbot-radius, 10px) * 0.6);
    background: var(--conferbot-row-changed, #fff4c2);
  }
  .news[hidden] { display: none; }
  .news p { margin: 0; }
  ol.responses { list-style: none; margin: 0; padding: 0; }
  ol.responses > li { padding: 0.7rem 0.2rem; border-bottom: 1px solid var(--conferbot-border, #d8dde6); }
  ol.responses > li:last-child { border-bottom: none; }
  article > header {
    display: flex; flex-wrap: wrap; align-items: baseline; justify-content: flex-start;
    gap: 0.25rem 0.6rem; margin: 0 0 0.4rem;
  }
  h3 { margin: 0; font-size: 1em; font-weight: 600; }
  .meta { font-size: 0.85em; color: var(--conferbot-muted, #5b6576); }
  .badge {
    display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; font-size: 0.8em;
    background: var(--conferbot-badge-background, #eef1f6);
  }
  .badge[data-status="completed"] {
    color: var(--conferbot-badge-active-text, #0f6b3a);
    background: var(--conferbot-badge-active-background, #e3f5ea);
  }
  .flag {
    display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; font-size: 0.8em; font-weight: 600;
    color: var(--conferbot-accent-text, #ffffff); background: var(--conferbot-accent, #3358d4);
  }
  @keyframes arrived {
    from { background: var(--conferbot-row-changed, #fff4c2); }
    to { background: transparent; }
  }
  li[data-news] { animation: arrived 2.5s ease-out; }
  @media (prefers-reduced-motion: reduce) {
    li[data-news] { animation: none; background: var(--conferbot-row-changed, #fff4c2); }
  }
  .empty { padding: 1.5rem; text-align: center; color: var(--conferbot-muted, #5b6576); }
  .pending { margin: 0; font-style: italic; color: var(--conferbot-muted, #5b6576); }
`);

/** @extends {ConferbotElement<ResponsePage | null>} */
export class ResponsesElement extends ConferbotElement {
  /** @override */
  static observedAttributes = [...ConferbotElement.observedAttributes, "chatbot-id", "chatbot-name", "page-size"];

  /** @type {ResponsePage | null} */
  #shown = null;
  #pager = new Pager({ noun: "response", label: "Response pages", onChange: () => this.#navigate() });
  /** Responses an event announced, marked until the person moves on. @type {Map<string, News>} */
  #news = new Map();
  /** Responses announced as created, not yet in a read of page 1, newest last. @type {Map<string, Pending>} */
  #pending = new Map();
  /** New responses announced while a later page is shown. */
  #unseen = 0;
  /** @type {number | undefined} */
  #liveTimer;
  /** An event came while a load was in flight: read again after it. */
  #readAgain = false;

  #prompt = h("p", { class: "prompt" }, "Choose a chatbot to see its responses.");
  #newsText = h("p", {});
  #newsBar = h("div", { class: "news", part: "news", hidden: true }, this.#newsText,
    h("button", { type: "button", onclick: () => this.#showNewest() }, "Show newest"));
  #list = h("ol", { class: "responses", part: "list", "aria-label": "Responses, newest first" });
  #content = h("div", { hidden: true }, this.#pager.element, this.#newsBar, this.#list);

  constructor() {
    super("Responses", [pagerSheet, answersSheet, styles]);
    this.body.append(this.#prompt, this.#content);
  }

  /** The chosen chatbot's id, or `null`. */
  get chatbotId() {
    return this.getAttribute("chatbot-id")?.trim() || null;
  }

  /**
   * @override
   * @param {string} name
   * @param {string | null} oldValue
   * @param {string | null} newValue
   */
  attributeChangedCallback(name, oldValue, newValue) {
    if (name === "page-size") {
      const size = pageSizeAttribute(newValue);
      if (size !== null) this.#pager.offerLimit(size, this.isStarted && this.chatbotId !== null);
    } else if (name === "chatbot-name") {
      this.#renderHeading();
    } else if (name === "chatbot-id") {
      if (oldValue === newValue) return;
      this.#forget();
      this.#shown = null;
      this.#pager.page = 1;
      this.#renderHeading();
      if (this.isStarted) this.reload();
    } else {
      super.attributeChangedCallback(name, oldValue, newValue);
    }
  }

  /** @override */
  get followsLiveEvents() {
    return true;
  }

  /**
   * @override
   * @param {ConferbotEvent} event
   */
  onLiveEvent(event) {
    const chatbotId = this.chatbotId;
    if (!chatbotId) return;
    if (event.type === "resync") {
      this.#scheduleLiveRead();
      return;
    }
    if (event.data.botId !== chatbotId) return;
    const responseId = typeof event.data.responseId === "string" ? event.data.responseId : null;
    if (event.type === "response.created") {
      if (!responseId) return;
      this.#markNew(responseId);
      if (this.#shown?.data.some((r) => r.id === responseId) || this.#pending.has(responseId)) return;
      // Pending on any page: "Show newest" shows it on page 1 even from a copy older than the event.
      this.#addPending(responseId, event.data);
      if (this.#pager.page === 1 || !this.#shown) {
        if (this.#shown) {
          this.#renderList(this.#shown);
          this.#pager.showTotal(this.#shownTotal());
          this.announce("1 new response; its answers load with the next refresh.");
        }
      } else {
        // Not worth a read: what is shown has not changed, only moved down a place.
        this.#unseen += 1;
        if (this.#shown.total !== null) this.#shown = { ...this.#shown, total: this.#shown.total + 1 };
        this.#pager.showTotal(this.#shown.total);
        this.#newsText.textContent = `${formatCount(this.#unseen, "new response")} since this page was shown.`;
        this.#newsBar.hidden = false;
        this.announce(this.#newsText.textContent);
      }
    } else if (event.type === "response.updated" && responseId) {
      const shown = this.#shown?.data.some((r) => r.id === responseId) || this.#pending.has(responseId);
      if (!shown) return;
      if (this.#news.get(responseId) !== "new") this.#news.set(responseId, "updated");
      if (this.#shown) this.#renderList(this.#shown);
      this.#scheduleLiveRead();
    }
  }

  /** @override */
  disconnectedCallback() {
    super.disconnectedCallback();
    this.#cancelTimers();
  }

  /** @override */
  loadingText() {
    return `Loading page ${formatNumber(this.#pager.page)} of the responses…`;
  }

  /**
   * @override
   * @param {AbortSignal} signal
   * @returns {Promise<ResponsePage | null>}
   */
  async fetchView(signal) {
    const chatbotId = this.chatbotId;
    if (!chatbotId) return null;
    return plainPage(await this.client.listResponses(chatbotId, { page: this.#pager.page, limit: this.#pager.limit }, { signal }));
  }

  /**
   * @override
   * @param {ResponsePage | null} page
   */
  renderView(page) {
    this.#prompt.hidden = page !== null;
    this.#content.hidden = page === null;
    if (page === null) {
      this.#shown = null;
      return ""; // the prompt says it already
    }
    const before = new Set(this.#shown?.data.map((r) => r.id) ?? []);
    this.#shown = page;
    if (this.#readAgain) {
      this.#readAgain = false;
      this.#startLiveTimer(); // this load has ended by the time the timer fires
    }
    if (page.page === 1) {
      this.#unseen = 0;
      this.#newsBar.hidden = true;
    }
    const arrived = page.data.filter((r) => this.#news.get(r.id) === "new" && !before.has(r.id) && !this.#pending.has(r.id)).length;
    for (const response of page.data) this.#pending.delete(response.id);
    if (page.page === 1) {
      // Off the first page is no longer news (the pending are not there yet).
      const shownIds = new Set(page.data.map((r) => r.id));
      for (const id of this.#news.keys()) {
        if (!shownIds.has(id) && !this.#pending.has(id)) this.#news.delete(id);
      }
    }
    this.#renderList(page);
    const pageSummary = this.#pager.render({ ...page, total: this.#shownTotal() });
    const summary = this.#shownTotal() === 0 ? "No responses yet." : pageSummary;
    if (arrived === 0) return summary;
    const said = `${formatCount(arrived, "new response")}.`;
    this.announce(said);
    return `${said} ${summary}`;
  }

  /**
   * A row for `id` from what its event said, at the top of page 1 until a read holds it.
   * @param {string} id
   * @param {Record<string, unknown>} data
   */
  #addPending(id, data) {
    const text = (/** @type {unknown} */ value) => (typeof value === "string" ? value : "");
    this.#pending.set(id, {
      id,
      createdAt: text(data.timestamp) || new Date().toISOString(),
      visitorId: text(data.visitorId),
      chatSessionId: text(data.chatSessionId),
    });
    // At most a page of them: more than that would not all be on page 1.
    for (const oldest of this.#pending.keys()) {
      if (this.#pending.size <= this.#pager.limit) break;
      this.#pending.delete(oldest);
    }
  }

  /** The total shown: the read's, plus the responses announced since that it lacks. */
  #shownTotal() {
    const total = this.#shown?.total ?? null;
    return total === null ? null : total + this.#pendingShown().length;
  }

  /** The pending rows shown above page 1's read, newest first. */
  #pendingShown() {
    if (this.#pager.page !== 1 || !this.#shown) return [];
    const read = new Set(this.#shown.data.map((r) => r.id));
    return [...this.#pending.values()].filter((p) => !read.has(p.id)).reverse();
  }

  /**
   * Marks `id` New. While a later page is shown these pile up unseen; only
   * the newest MAX_PAGE_SIZE can be on page 1 when the person goes there.
   * @param {string} id
   */
  #markNew(id) {
    this.#news.delete(id);
    this.#news.set(id, "new");
    for (const oldest of this.#news.keys()) {
      if (this.#news.size <= MAX_PAGE_SIZE + this.#pager.limit) break;
      this.#news.delete(oldest);
    }
  }

  /** Page 1, with the responses that arrived meanwhile marked New. */
  #showNewest() {
    this.#pager.page = 1;
    this.reload();
  }

  /** The person moved to another page or size: what was new there is no longer news. */
  #navigate() {
    this.#forget();
    this.reload();
  }

  /** Drops what events announced (a new chatbot, or the person moved on). */
  #forget() {
    this.#cancelTimers();
    this.#news.clear();
    this.#pending.clear();
    this.#readAgain = false;
    this.#unseen = 0;
    this.#newsBar.hidden = true;
  }

  #cancelTimers() {
    window.clearTimeout(this.#liveTimer);
    this.#liveTimer = undefined;
  }

  /**
   * One quiet read of the page shown, LIVE_READ_DELAY_MS after the first
   * event of a burst; while a load is in flight, one more after it (not a
   * restart: under a steady stream of events a slow read would never finish).
   */
  #scheduleLiveRead() {
    if (this.#liveTimer !== undefined) return;
    if (this.isLoading) {
      this.#readAgain = true;
      return;
    }
    this.#startLiveTimer();
  }

  /** Starts the LIVE_READ_DELAY_MS timer of a quiet read, unless one is pending. */
  #startLiveTimer() {
    if (this.#liveTimer !== undefined) return;
    this.#liveTimer = window.setTimeout(() => {
      this.#liveTimer = undefined;
      this.reload({ quiet: true });
    }, LIVE_READ_DELAY_MS);
  }

  #renderHeading() {
    const name = this.getAttribute("chatbot-name")?.trim();
    const id = this.chatbotId;
    this.heading.textContent = name ? `Responses of ${name}` : id ? `Responses of chatbot ${id}` : "Responses";
  }

  /** @param {ResponsePage} page */
  #renderList(page) {
    const pending = this.#pendingShown();
    if (page.data.length === 0 && pending.length === 0) {
      const words = page.page > 1 ? "This page is empty now; the list has fewer pages." : "No responses yet.";
      replaceChildren(this.#list, h("li", { class: "empty" }, words));
      return;
    }
    replaceChildren(this.#list, [...pending.map((p) => this.#pendingItem(p)), ...page.data.map((response) => this.#item(response))]);
  }

  /**
   * A response known from its event only: when, who, and that its answers come with the next read.
   * @param {Pending} pending
   */
  #pendingItem(pending) {
    const news = this.#news.get(pending.id) ?? "new";
    const headingId = `response-${pending.id}`;
    const who = [pending.visitorId && `visitor ${pending.visitorId}`, pending.chatSessionId && `session ${pending.chatSessionId}`]
      .filter(Boolean).join(", ");
    return h("li", { "data-id": pending.id, "data-news": news, "data-pending": true },
      h("article", { "aria-labelledby": headingId },
        h("header", {},
          h("h3", { id: headingId }, h("time", { datetime: pending.createdAt }, formatDateTime(pending.createdAt))),
          h("span", { class: "flag" }, news === "new" ? "New" : "Updated"),
          who ? h("span", { class: "meta" }, who) : null),
        h("p", { class: "pending" }, PENDING_ANSWERS)));
  }

  /** @param {ChatbotResponse} response */
  #item(response) {
    const news = this.#news.get(response.id);
    const headingId = `response-${response.id}`;
    const updated = response.updatedAt && response.updatedAt !== response.createdAt;
    return h("li", { "data-id": response.id, "data-news": news ?? null },
      h("article", { "aria-labelledby": headingId },
        h("header", {},
          h("h3", { id: headingId }, h("time", { datetime: response.createdAt }, formatDateTime(response.createdAt))),
          response.status ? h("span", { class: "badge", "data-status": response.status.toLowerCase() }, response.status) : null,
          news ? h("span", { class: "flag" }, news === "new" ? "New" : "Updated") : null,
          updated
            ? h("span", { class: "meta" }, "updated ", h("time", { class: "updated", datetime: response.updatedAt }, formatDateTime(response.updatedAt)))
            : null),
        answersList(response.answers)));
  }
}

customElements.define("conferbot-responses", ResponsesElement);
