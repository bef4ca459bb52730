// <conferbot-chatbots>: the workspace's chatbots, a page at a time.
//
// Attributes (besides the shared ones in element-base.js):
//   page-size   chatbots per page, 1..100 (default 20); the person can change it.
//   selected    the id of the chosen chatbot (set when a person chooses a row).
//
// Choosing a row (a click anywhere on it, or Enter/Space on its name, which
// is a button) marks it and dispatches `conferbot-chatbot-select` (bubbles,
// composed) with `detail: {id, name}`: the demo page shows that chatbot's
// responses in <conferbot-responses>.
//
// Live, applied from the event itself (no read): a `response.created` for a
// chatbot on the page shown adds 1 to its row's count and highlights the row;
// sort, page, page size and focus stay (an event that comes while a load is
// in flight makes one more read, if that load shows its chatbot).
// `response.updated` and conversation
// events change nothing a row shows. `resync` (events were missed) re-reads
// the page, quietly.

import { h, replaceChildren } from "./dom.js";
import { ConferbotElement } from "./element-base.js";
import { formatDateTime, formatNumber } from "./format.js";
import { Pager, pagerSheet, pageSizeAttribute, plainPage } from "./pager.js";
import { sheet } from "./styles.js";

/** @typedef {import("./package.js").ConferbotEvent} ConferbotEvent */
/** @typedef {import("./package.js").Chatbot} Chatbot */
/** @typedef {import("./pager.js").PlainPage<Chatbot>} ChatbotPage */
/** @typedef {"name" | "status" | "responseCount" | "createdAt" | "updatedAt"} ColumnKey */
/** @typedef {{key: ColumnKey, label: string, kind: "text" | "number" | "date"}} Column */
/** @typedef {{key: ColumnKey, direction: "ascending" | "descending"}} Sort */

/** What a chosen row dispatches. */
export const SELECT_EVENT = "conferbot-chatbot-select";
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
  tbody th button.choose { font-weight: 500; text-decoration: underline dotted 1px; text-underline-offset: 0.2em; }
  th button:focus-visible { outline: 2px solid var(--conferbot-accent, #3358d4); outline-offset: 2px; }
  th.numeric button { flex-direction: row-reverse; }
  .arrow { color: var(--conferbot-muted, #5b6576); font-size: 0.8em; min-width: 1em; }
  tbody tr { cursor: pointer; }
  tbody tr:hover { background: var(--conferbot-row-hover, #f6f8fb); }
  tbody tr.selected { background: var(--conferbot-row-selected, #e8eefc); box-shadow: inset 3px 0 0 var(--conferbot-accent, #3358d4); }
  tbody tr.selected button.choose { font-weight: 600; text-decoration: none; }
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
  .empty { padding: 1.5rem; text-align: center; color: var(--conferbot-muted, #5b6576); cursor: default; }
`);

/** @extends {ConferbotElement<ChatbotPage>} */
export class ChatbotsElement extends ConferbotElement {
  /** @override */
  static observedAttributes = [...ConferbotElement.observedAttributes, "page-size", "selected"];

  /** @type {Sort | null} */
  #sort = null;
  /** @type {ChatbotPage | null} */
  #shown = null;
  #pager = new Pager({ noun: "chatbot", label: "Chatbot pages", onChange: () => this.reload() });
  #headRow = h("tr");
  #rows = h("tbody", { onclick: (/** @type {Event} */ event) => this.#chooseRowOf(event.target) });
  /** Highlighted rows: chatbot id → until when (`performance.now()`). @type {Map<string, number>} */
  #highlighted = new Map();
  /** @type {number | undefined} */
  #highlightTimer;
  /** Chatbots that `response.created` named while a load was in flight. @type {Set<string>} */
  #eventsDuringLoad = new Set();

  constructor() {
    super("Chatbots", [pagerSheet, styles]);
    this.body.append(
      this.#pager.element,
      h("div", { class: "table-wrap" },
        h("table", { part: "table" },
          h("caption", { class: "visually-hidden" },
            "Chatbots; choose a name to see its responses; column headers sort the rows shown"),
          h("thead", {}, this.#headRow),
          this.#rows)),
    );
    this.#buildHead();
  }

  /**
   * `page-size` and `selected` are read here; the shared attributes go to the base class.
   * @override
   * @param {string} name
   * @param {string | null} oldValue
   * @param {string | null} newValue
   */
  attributeChangedCallback(name, oldValue, newValue) {
    if (name === "page-size") {
      const size = pageSizeAttribute(newValue);
      if (size !== null) this.#pager.offerLimit(size, this.isStarted);
    } else if (name === "selected") {
      this.#markSelected();
    } else {
      super.attributeChangedCallback(name, oldValue, newValue);
    }
  }

  /** @override */
  get followsLiveEvents() {
    return true;
  }

  /**
   * Applies what an event says to the rows shown; re-reads only on `resync`.
   * @override
   * @param {ConferbotEvent} event
   */
  onLiveEvent(event) {
    if (event.type === "resync") {
      this.reload({ quiet: true });
      return;
    }
    if (event.type !== "response.created") return;
    const id = event.data.botId;
    if (typeof id !== "string") return;
    if (this.isLoading) {
      // The answer in flight (a first load, another page) may or may not
      // count this response already: if it shows this chatbot, it is read
      // again once shown, instead of guessed at. (Not restarted: under a
      // steady stream of events a slow load would never finish.)
      this.#eventsDuringLoad.add(id);
      return;
    }
    const shown = this.#shown;
    const index = shown ? shown.data.findIndex((bot) => bot.id === id) : -1;
    if (!shown || index < 0) return;
    const bot = /** @type {Chatbot} */ (shown.data[index]);
    const data = [...shown.data];
    data[index] = { ...bot, responseCount: bot.responseCount + 1 };
    this.#shown = { ...shown, data };
    this.#highlight([id]);
    this.#renderRows();
  }

  /** @override */
  disconnectedCallback() {
    super.disconnectedCallback();
    window.clearTimeout(this.#highlightTimer);
  }

  /** @override */
  loadingText() {
    return `Loading page ${formatNumber(this.#pager.page)} of the chatbots…`;
  }

  /**
   * @override
   * @param {AbortSignal} signal
   * @returns {Promise<ChatbotPage>}
   */
  async fetchView(signal) {
    return plainPage(await this.client.listChatbots({ page: this.#pager.page, limit: this.#pager.limit }, { signal }));
  }

  /**
   * @override
   * @param {ChatbotPage} page
   */
  renderView(page) {
    this.#highlight(changedRows(this.#shown, page));
    this.#shown = page;
    if (page.data.some((bot) => this.#eventsDuringLoad.has(bot.id))) window.setTimeout(() => this.reload({ quiet: true }), 0);
    this.#eventsDuringLoad.clear();
    this.#renderRows();
    const summary = this.#pager.render(page);
    return page.total === 0 ? "No chatbots yet." : summary;
  }

  /**
   * Chooses the row that `target` is in: marks it, and tells the page.
   * @param {EventTarget | null} target
   */
  #chooseRowOf(target) {
    const row = target instanceof Element ? target.closest("tr[data-id]") : null;
    const id = row?.getAttribute("data-id");
    const bot = id ? this.#shown?.data.find((b) => b.id === id) : undefined;
    if (!bot) return;
    this.setAttribute("selected", bot.id);
    this.dispatchEvent(new CustomEvent(SELECT_EVENT, {
      bubbles: true,
      composed: true,
      detail: { id: bot.id, name: bot.name },
    }));
  }

  /** Marks the chosen row (`aria-current` on its button, a tint on the row). */
  #markSelected() {
    const selected = this.getAttribute("selected");
    for (const row of this.#rows.querySelectorAll("tr[data-id]")) {
      const chosen = row.getAttribute("data-id") === selected;
      row.classList.toggle("selected", chosen);
      const button = row.querySelector("button.choose");
      if (chosen) button?.setAttribute("aria-current", "true");
      else button?.removeAttribute("aria-current");
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
    // Rows are rebuilt; a focused name button gets its focus back on its new self.
    const focused = this.shadowRoot?.activeElement;
    const focusedId = focused instanceof HTMLElement && this.#rows.contains(focused)
      ? focused.closest("tr")?.getAttribute("data-id")
      : null;
    const now = performance.now();
    replaceChildren(this.#rows, sortRows(chatbots, this.#sort).map((bot) =>
      h("tr", { "data-id": bot.id, class: (this.#highlighted.get(bot.id) ?? 0) > now ? "changed" : null },
        h("th", { scope: "row", class: "name" }, h("button", { type: "button", class: "choose" }, bot.name)),
        h("td", {}, h("span", { class: "badge", "data-status": bot.status.toLowerCase() }, bot.status)),
        h("td", { class: "numeric" }, formatNumber(bot.responseCount)),
        dateCell(bot.createdAt),
        dateCell(bot.updatedAt))));
    this.#markSelected();
    if (focusedId) {
      /** @type {HTMLElement | null} */ (this.#rows.querySelector(`tr[data-id="${CSS.escape(focusedId)}"] button.choose`))?.focus();
    }
  }

  /**
   * Highlights the rows of `ids` for HIGHLIGHT_MS from now (at the next render).
   * @param {Iterable<string>} ids
   */
  #highlight(ids) {
    const until = performance.now() + HIGHLIGHT_MS;
    let any = false;
    for (const id of ids) {
      this.#highlighted.set(id, until);
      any = true;
    }
    if (!any) return;
    window.clearTimeout(this.#highlightTimer);
    this.#highlightTimer = window.setTimeout(() => {
      this.#highlighted.clear();
      for (const row of this.#rows.querySelectorAll("tr.changed")) row.classList.remove("changed");
    }, HIGHLIGHT_MS);
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

customElements.define("conferbot-chatbots", ChatbotsElement);
