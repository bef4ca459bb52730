// <conferbot-chatbots>: the workspace's chatbots, a page at a time.
//
// Attributes (besides the shared ones in element-base.js):
//   page-size   chatbots per page, 1..100 (default 20); the person can change it.
//
// Live: a `response.created` / `response.updated` event for a chatbot on the
// page shown re-reads that page (the BFF dropped it from its cache, so that is
// one upstream call, at most one a second) and highlights the rows that
// changed; sort, page, page size and focus stay. `resync` re-reads it too.

import { h, replaceChildren } from "./dom.js";
import { ConferbotElement } from "./element-base.js";
import { formatCount, formatDateTime, formatNumber } from "./format.js";
import { throttled } from "./live-events.js";
import { sheet } from "./styles.js";

/** @typedef {import("./package.js").ConferbotEvent} ConferbotEvent */

/** @typedef {import("./package.js").Chatbot} Chatbot */
/**
 * A page as shown: a plain copy of the package's `Page<Chatbot>` (whose wasm
 * memory is freed at once). `total` and `totalPages` are `null` when the
 * server did not say.
 * @typedef {{data: Chatbot[], total: number | null, page: number, totalPages: number | null, hasNext: boolean}} ChatbotPage
 */
/** @typedef {"name" | "status" | "responseCount" | "createdAt" | "updatedAt"} ColumnKey */
/** @typedef {{key: ColumnKey, label: string, kind: "text" | "number" | "date"}} Column */
/** @typedef {{key: ColumnKey, direction: "ascending" | "descending"}} Sort */

/** Page sizes offered; `page-size` may add another within 1..100 (the API's bounds, `src/pagination.rs`). */
const PAGE_SIZES = [5, 10, 20, 50, 100];
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

/** The events that change a chatbot's row (its `responseCount` and `updatedAt`). */
const ROW_EVENTS = new Set(["response.created", "response.updated"]);
/** A burst of events waits this long and makes one read… */
const LIVE_DELAY_MS = 250;
/** …and live reads are at least this far apart. */
const LIVE_INTERVAL_MS = 1000;
/** How long a changed row stays highlighted. */
const HIGHLIGHT_MS = 2500;

/** @type {Column[]} */
const COLUMNS = [
  { key: "name", label: "Name", kind: "text" },
  { key: "status", label: "Status", kind: "text" },
  { key: "responseCount", label: "Responses", kind: "number" },
  { key: "createdAt", label: "Created", kind: "date" },
  { key: "updatedAt", label: "Updated", kind: "date" },
];

const styles = sheet(`
  .toolbar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: space-between;
    gap: 0.5rem 1rem;
    margin-bottom: 0.5rem;
  }
  nav { display: flex; align-items: center; gap: 0.35rem; flex-wrap: wrap; }
  .page-label { min-width: 7.5em; text-align: center; font-variant-numeric: tabular-nums; }
  select { font: inherit; padding: 0.2rem; }
  .table-wrap { overflow-x: auto; }
  table { width: 100%; border-collapse: collapse; }
  th, td { padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--conferbot-border, #d8dde6); text-align: start; }
  th { font-weight: 600; white-space: nowrap; vertical-align: bottom; }
  tbody th { font-weight: 500; white-space: normal; }
  th button {
    all: unset;
    cursor: pointer;
    display: inline-flex;
    gap: 0.3em;
    align-items: baseline;
    font-weight: 600;
  }
  th button:focus-visible { outline: 2px solid var(--conferbot-accent, #3358d4); outline-offset: 2px; }
  th.numeric button { flex-direction: row-reverse; }
  .arrow { color: var(--conferbot-muted, #5b6576); font-size: 0.8em; min-width: 1em; }
  tbody tr:hover { background: var(--conferbot-row-hover, #f6f8fb); }
  td.date { white-space: nowrap; color: var(--conferbot-muted, #5b6576); }
  .badge {
    display: inline-block;
    padding: 0.05rem 0.5rem;
    border-radius: 999px;
    font-size: 0.85em;
    background: var(--conferbot-badge-background, #eef1f6);
  }
  .badge[data-status="active"] {
    color: var(--conferbot-badge-active-text, #0f6b3a);
    background: var(--conferbot-badge-active-background, #e3f5ea);
  }
  @keyframes changed {
    from { background: var(--conferbot-row-changed, #fff4c2); }
    to { background: transparent; }
  }
  tbody tr.changed { animation: changed ${HIGHLIGHT_MS}ms ease-out; }
  @media (prefers-reduced-motion: reduce) {
    tbody tr.changed { animation: none; background: var(--conferbot-row-changed, #fff4c2); }
  }
  .empty { padding: 1.5rem; text-align: center; color: var(--conferbot-muted, #5b6576); }
`);

/** @extends {ConferbotElement<ChatbotPage>} */
export class ChatbotsElement extends ConferbotElement {
  /** @override */
  static observedAttributes = [...ConferbotElement.observedAttributes, "page-size"];

  #page = 1;
  #limit = DEFAULT_PAGE_SIZE;
  /** @type {Sort | null} */
  #sort = null;
  /** @type {ChatbotPage | null} */
  #shown = null;

  #first = navButton("First", "First page", () => this.#goTo(1));
  #previous = navButton("Previous", "Previous page", () => this.#goTo(this.#page - 1));
  #next = navButton("Next", "Next page", () => this.#goTo(this.#page + 1));
  #last = navButton("Last", "Last page", () => this.#goTo(this.#shown?.totalPages ?? 1));
  #pageLabel = h("span", { class: "page-label", part: "page-label" }, "Page – of –");
  #total = h("span", { class: "total muted", part: "total" });
  /** @type {HTMLSelectElement} */
  #pageSize = h("select", { id: "page-size", onchange: () => this.#setLimit(Number(this.#pageSize.value)) });
  #headRow = h("tr");
  #rows = h("tbody");
  /** Ids of the rows to highlight at the next render (changed since the last one). @type {Set<string>} */
  #changed = new Set();
  /** @type {number | undefined} */
  #highlightTimer;
  #liveRead = throttled(() => this.reload({ quiet: true }), { delayMs: LIVE_DELAY_MS, intervalMs: LIVE_INTERVAL_MS });

  constructor() {
    super("Chatbots", [styles]);
    this.#fillPageSizes();
    this.body.append(
      h("div", { class: "toolbar" },
        h("nav", { "aria-label": "Chatbot pages" }, this.#first, this.#previous, this.#pageLabel, this.#next, this.#last),
        this.#total,
        h("span", {}, h("label", { for: "page-size" }, "Per page "), this.#pageSize)),
      h("div", { class: "table-wrap" },
        h("table", { part: "table" },
          h("caption", { class: "visually-hidden" }, "Chatbots; column headers sort the rows shown"),
          h("thead", {}, this.#headRow),
          this.#rows)),
    );
    this.#buildHead();
  }

  /**
   * `page-size` is read here; the shared attributes go to the base class.
   * @override
   * @param {string} name
   * @param {string | null} oldValue
   * @param {string | null} newValue
   */
  attributeChangedCallback(name, oldValue, newValue) {
    if (name !== "page-size") {
      super.attributeChangedCallback(name, oldValue, newValue);
      return;
    }
    const size = Number(newValue);
    if (Number.isInteger(size) && size >= 1 && size <= MAX_PAGE_SIZE && size !== this.#limit) {
      this.#fillPageSizes(size);
      this.#setLimit(size);
    }
  }

  /** @override */
  get followsLiveEvents() {
    return true;
  }

  /**
   * Re-reads the page shown when an event touches one of its chatbots.
   * @override
   * @param {ConferbotEvent} event
   */
  onLiveEvent(event) {
    if (event.type === "resync") {
      this.#liveRead.request();
      return;
    }
    if (!ROW_EVENTS.has(event.type)) return;
    const id = event.data.botId;
    if (typeof id === "string" && this.#shown?.data.some((bot) => bot.id === id)) this.#liveRead.request();
  }

  /** @override */
  disconnectedCallback() {
    super.disconnectedCallback();
    this.#liveRead.cancel();
    window.clearTimeout(this.#highlightTimer);
  }

  /** @override */
  loadingText() {
    return `Loading page ${formatNumber(this.#page)} of the chatbots…`;
  }

  /**
   * @override
   * @param {AbortSignal} signal
   * @returns {Promise<ChatbotPage>}
   */
  async fetchView(signal) {
    const page = await this.client.listChatbots({ page: this.#page, limit: this.#limit }, { signal });
    try {
      return {
        data: [...page.data],
        total: page.total,
        page: page.page,
        totalPages: page.totalPages,
        hasNext: page.hasNextPage(),
      };
    } finally {
      page.free();
    }
  }

  /**
   * @override
   * @param {ChatbotPage} page
   */
  renderView(page) {
    this.#changed = changedRows(this.#shown, page);
    this.#shown = page;
    this.#page = page.page;
    this.#renderRows();
    const of = page.totalPages === null ? "" : ` of ${formatNumber(Math.max(page.totalPages, 1))}`;
    this.#pageLabel.textContent = `Page ${formatNumber(page.page)}${of}`;
    this.#total.textContent = page.total === null ? "" : `${formatCount(page.total, "chatbot")} in all`;
    this.#setNavigation(page.page > 1, page.hasNext, page.totalPages !== null && page.page < page.totalPages);
    if (page.total === 0) return "No chatbots yet.";
    const outOf = page.total === null ? "" : ` of ${formatNumber(page.total)}`;
    return `Page ${formatNumber(page.page)}${of}: ${formatCount(page.data.length, "chatbot")} shown${outOf}.`;
  }

  /** @param {number} page */
  #goTo(page) {
    this.#page = Math.max(1, page);
    this.reload();
  }

  /**
   * A new page size, keeping the first chatbot shown on the page shown.
   * @param {number} limit
   */
  #setLimit(limit) {
    const firstShown = (this.#page - 1) * this.#limit;
    this.#limit = limit;
    this.#page = Math.floor(firstShown / limit) + 1;
    this.#pageSize.value = String(limit);
    if (this.isStarted) this.reload();
  }

  /** @param {number} [extra] a size from `page-size` that the list does not offer */
  #fillPageSizes(extra) {
    const sizes = [...new Set([...PAGE_SIZES, ...(extra ? [extra] : [])])].sort((a, b) => a - b);
    replaceChildren(this.#pageSize, sizes.map((n) => h("option", { value: n }, n)));
    this.#pageSize.value = String(extra ?? this.#limit);
  }

  /**
   * @param {boolean} hasPrevious
   * @param {boolean} hasNext
   * @param {boolean} lastIsKnownAndAhead the last page is known (the server gave `totalPages`) and not this one
   */
  #setNavigation(hasPrevious, hasNext, lastIsKnownAndAhead) {
    const focused = this.shadowRoot?.activeElement;
    this.#first.disabled = this.#previous.disabled = !hasPrevious;
    this.#next.disabled = !hasNext;
    this.#last.disabled = !lastIsKnownAndAhead;
    // A button that just disabled itself (Last, on the last page) would drop the
    // keyboard focus to the page's start; keep it in the navigation instead.
    if (focused instanceof HTMLButtonElement && focused.disabled) {
      (hasPrevious ? this.#previous : this.#next).focus();
    }
  }

  /** The header row, built once: re-creating its buttons would drop the keyboard focus on every sort. */
  #buildHead() {
    replaceChildren(this.#headRow, COLUMNS.map((column) =>
      h("th", {
        scope: "col",
        class: column.kind === "number" ? "numeric" : null,
        "aria-sort": "none",
        "data-key": column.key,
      },
      h("button", { type: "button", onclick: () => this.#sortBy(column.key) },
        column.label,
        h("span", { class: "arrow", "aria-hidden": "true" })))));
  }

  /** Marks the sorted column (`aria-sort`, and an arrow for the eye). */
  #renderSortState() {
    const sort = this.#sort;
    for (const th of this.#headRow.querySelectorAll("th")) {
      const sorted = sort && sort.key === th.dataset.key ? sort.direction : null;
      th.setAttribute("aria-sort", sorted ?? "none");
      const arrow = th.querySelector(".arrow");
      if (arrow) arrow.textContent = sorted === "ascending" ? "▲" : sorted === "descending" ? "▼" : "";
    }
  }

  /** @param {ColumnKey} key */
  #sortBy(key) {
    const direction = this.#sort?.key === key && this.#sort.direction === "ascending" ? "descending" : "ascending";
    this.#sort = { key, direction };
    this.#renderSortState();
    this.#renderRows();
  }

  #renderRows() {
    const chatbots = this.#shown?.data ?? [];
    if (chatbots.length === 0) {
      const words = (this.#shown?.page ?? 1) > 1 ? "This page is empty now; the list has fewer pages." : "No chatbots yet.";
      replaceChildren(this.#rows, h("tr", {}, h("td", { class: "empty", colspan: COLUMNS.length }, words)));
      return;
    }
    const changed = this.#changed;
    this.#changed = new Set();
    replaceChildren(this.#rows, sortRows(chatbots, this.#sort).map((bot) =>
      h("tr", { "data-id": bot.id, class: changed.has(bot.id) ? "changed" : null },
        h("th", { scope: "row", class: "name" }, bot.name),
        h("td", {}, h("span", { class: "badge", "data-status": bot.status.toLowerCase() }, bot.status)),
        h("td", { class: "numeric" }, formatNumber(bot.responseCount)),
        dateCell(bot.createdAt),
        dateCell(bot.updatedAt))));
    if (changed.size > 0) {
      window.clearTimeout(this.#highlightTimer);
      this.#highlightTimer = window.setTimeout(() => {
        for (const row of this.#rows.querySelectorAll("tr.changed")) row.classList.remove("changed");
      }, HIGHLIGHT_MS);
    }
  }
}

/**
 * The ids of the chatbots whose row differs between two reads of the same
 * page (none when the page itself changed: that is navigation, not news).
 * @param {ChatbotPage | null} before
 * @param {ChatbotPage} after
 * @returns {Set<string>}
 */
function changedRows(before, after) {
  /** @type {Set<string>} */
  const changed = new Set();
  if (!before || before.page !== after.page || before.data.length !== after.data.length) return changed;
  const old = new Map(before.data.map((bot) => [bot.id, bot]));
  for (const bot of after.data) {
    const was = old.get(bot.id);
    if (was && (was.responseCount !== bot.responseCount || was.updatedAt !== bot.updatedAt
      || was.status !== bot.status || was.name !== bot.name)) {
      changed.add(bot.id);
    }
  }
  return changed;
}

/**
 * The rows in the order `sort` asks for (a stable sort of a copy).
 * @param {Chatbot[]} chatbots
 * @param {Sort | null} sort
 */
function sortRows(chatbots, sort) {
  if (!sort) return chatbots;
  const column = COLUMNS.find((c) => c.key === sort.key);
  if (!column) return chatbots;
  const collator = new Intl.Collator(document.documentElement.lang || undefined, { numeric: true, sensitivity: "base" });
  const sign = sort.direction === "ascending" ? 1 : -1;
  /** @param {Chatbot} bot */
  const value = (bot) => bot[column.key];
  return [...chatbots].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    if (column.kind === "number") return sign * (Number(x) - Number(y));
    if (column.kind === "date") return sign * (Date.parse(String(x)) - Date.parse(String(y)) || 0);
    return sign * collator.compare(String(x), String(y));
  });
}

/** @param {string} iso */
function dateCell(iso) {
  return h("td", { class: "date" }, h("time", { datetime: iso }, formatDateTime(iso)));
}

/**
 * @param {string} text
 * @param {string} label what a screen reader says
 * @param {() => void} onclick
 */
function navButton(text, label, onclick) {
  return h("button", { type: "button", "aria-label": label, disabled: true, onclick }, text);
}

customElements.define("conferbot-chatbots", ChatbotsElement);
