// The pagination both paged widgets share (<conferbot-chatbots>,
// <conferbot-responses>): First / Previous / "Page n of m" / Next / Last, the
// total, and "Per page" with the same sizes, default and bounds, so the two
// lists page the same way and a person learns it once.

import { h, replaceChildren } from "./dom.js";
import { formatCount, formatNumber } from "./format.js";
import { sheet } from "./styles.js";

/** Page sizes offered; `page-size` may add another within 1..100 (the API's bounds, `src/pagination.rs`). */
const PAGE_SIZES = [5, 10, 20, 50, 100];
/** The API's default page size. */
export const DEFAULT_PAGE_SIZE = 20;
/** The API's largest page size. */
export const MAX_PAGE_SIZE = 100;

/**
 * A page as the widgets keep it: a plain copy of the package's `Page<T>`
 * (whose wasm memory is freed at once). `total` and `totalPages` are `null`
 * when the server did not say.
 * @template T
 * @typedef {{data: T[], total: number | null, page: number, totalPages: number | null, hasNext: boolean}} PlainPage
 */

/** The pager's look, for the widget's `adoptedStyleSheets`. */
export const pagerSheet = sheet(`
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
`);

/**
 * A page as shown, copied out of the package's page and freed.
 * @template T
 * @param {import("./package.js").Page<T>} page
 * @returns {PlainPage<T>}
 */
export function plainPage(page) {
  try {
    return { data: [...page.data], total: page.total, page: page.page, totalPages: page.totalPages, hasNext: page.hasNextPage() };
  } finally {
    page.free();
  }
}

/**
 * The value of a `page-size` attribute, or `null` when it is not a size the API takes.
 * @param {string | null} raw
 */
export function pageSizeAttribute(raw) {
  const size = Number(raw);
  return raw !== null && Number.isInteger(size) && size >= 1 && size <= MAX_PAGE_SIZE ? size : null;
}

/** The toolbar of a paged list, and where it is (page, size). */
export class Pager {
  page = 1;
  limit = DEFAULT_PAGE_SIZE;
  /** @type {number | null} the last page, when the server said */
  #totalPages = null;

  #first = navButton("First", "First page", () => this.goTo(1));
  #previous = navButton("Previous", "Previous page", () => this.goTo(this.page - 1));
  #next = navButton("Next", "Next page", () => this.goTo(this.page + 1));
  #last = navButton("Last", "Last page", () => this.goTo(this.#totalPages ?? 1));
  #label = h("span", { class: "page-label", part: "page-label" }, "Page – of –");
  #total = h("span", { class: "total muted", part: "total" });
  /** @type {HTMLSelectElement} */
  #size = h("select", { id: "page-size", onchange: () => this.setLimit(Number(this.#size.value)) });
  #noun;
  #onChange;

  /**
   * @param {{noun: string, label: string, onChange: () => void}} options `noun` counts the total
   *   ("chatbot"), `label` names the navigation ("Chatbot pages"), `onChange` loads the page now asked for
   */
  constructor({ noun, label, onChange }) {
    this.#noun = noun;
    this.#onChange = onChange;
    this.#fillSizes();
    this.element = h("div", { class: "toolbar" },
      h("nav", { "aria-label": label }, this.#first, this.#previous, this.#label, this.#next, this.#last),
      this.#total,
      h("span", {}, h("label", { for: "page-size" }, "Per page "), this.#size));
  }

  /**
   * A size from `page-size`: offered in the list, and taken (without a load
   * unless `load`), keeping the first item shown on the page shown.
   * @param {number} size
   * @param {boolean} load
   */
  offerLimit(size, load) {
    if (size === this.limit) return;
    this.#fillSizes(size);
    this.setLimit(size, load);
  }

  /**
   * A new page size, keeping the first item shown on the page shown.
   * @param {number} limit
   * @param {boolean} [load]
   */
  setLimit(limit, load = true) {
    const firstShown = (this.page - 1) * this.limit;
    this.limit = limit;
    this.page = Math.floor(firstShown / limit) + 1;
    this.#size.value = String(limit);
    if (load) this.#onChange();
  }

  /**
   * Shows where `page` is; the summary for the status line.
   * @param {PlainPage<unknown>} page
   * @returns {string}
   */
  render(page) {
    this.page = page.page;
    this.#totalPages = page.totalPages;
    const of = page.totalPages === null ? "" : ` of ${formatNumber(Math.max(page.totalPages, 1))}`;
    this.#label.textContent = `Page ${formatNumber(page.page)}${of}`;
    this.showTotal(page.total);
    this.#setNavigation(page.page > 1, page.hasNext, page.totalPages !== null && page.page < page.totalPages);
    const outOf = page.total === null ? "" : ` of ${formatNumber(page.total)}`;
    return `Page ${formatNumber(page.page)}${of}: ${formatCount(page.data.length, this.#noun)} shown${outOf}.`;
  }

  /**
   * The "N in all" text (a live event may change it without a read).
   * @param {number | null} total
   */
  showTotal(total) {
    this.#total.textContent = total === null ? "" : `${formatCount(total, this.#noun)} in all`;
  }

  /**
   * Goes to `page` (from 1) and loads it.
   * @param {number} page
   */
  goTo(page) {
    this.page = Math.max(1, page);
    this.#onChange();
  }

  /** @param {number} [extra] a size from `page-size` that the list does not offer */
  #fillSizes(extra) {
    const sizes = [...new Set([...PAGE_SIZES, ...(extra ? [extra] : [])])].sort((a, b) => a - b);
    replaceChildren(this.#size, sizes.map((n) => h("option", { value: n }, n)));
    this.#size.value = String(extra ?? this.limit);
  }

  /**
   * @param {boolean} hasPrevious
   * @param {boolean} hasNext
   * @param {boolean} lastIsKnownAndAhead the last page is known (the server gave `totalPages`) and not this one
   */
  #setNavigation(hasPrevious, hasNext, lastIsKnownAndAhead) {
    const focused = this.element.getRootNode() instanceof ShadowRoot
      ? /** @type {ShadowRoot} */ (this.element.getRootNode()).activeElement
      : null;
    this.#first.disabled = this.#previous.disabled = !hasPrevious;
    this.#next.disabled = !hasNext;
    this.#last.disabled = !lastIsKnownAndAhead;
    // A button that just disabled itself (Last, on the last page) would drop the
    // keyboard focus to the page's start; keep it in the navigation instead.
    if (focused instanceof HTMLButtonElement && focused.disabled && this.element.contains(focused)) {
      (hasPrevious ? this.#previous : this.#next).focus();
    }
  }
}

/**
 * @param {string} text
 * @param {string} label what a screen reader says
 * @param {() => void} onclick
 */
function navButton(text, label, onclick) {
  return h("button", { type: "button", "aria-label": label, disabled: true, onclick }, text);
}
