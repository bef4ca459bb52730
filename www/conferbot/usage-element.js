// <conferbot-usage>: this month's API calls against the plan's quota, as a
// meter that turns from calm to warning to critical as the quota runs out.
//
// Live: every call the BFF makes upstream counts, including the reads other
// widgets make because of a live event; so any live event re-reads usage,
// quietly, a few seconds later and at most once per USAGE_INTERVAL_MS.

import { h, replaceChildren } from "./dom.js";
import { ConferbotElement } from "./element-base.js";
import { formatMonth, formatNumber, formatPercent, formatTime } from "./format.js";
import { throttled } from "./live-events.js";
import { sheet } from "./styles.js";

/** @typedef {import("./package.js").ConferbotEvent} ConferbotEvent */

/** @typedef {import("./package.js").Usage} Usage */
/** @typedef {"ok" | "warning" | "critical" | "unlimited"} Level */

/** From this share of the quota on, the meter warns. */
const WARNING_AT = 0.75;
/** From this share on, the meter is critical. */
const CRITICAL_AT = 0.9;
/**
 * After an event, usage is re-read this much later (after the reads the event
 * causes elsewhere, which count too), and at most once in USAGE_INTERVAL_MS.
 */
const USAGE_DELAY_MS = 2000;
const USAGE_INTERVAL_MS = 5000;

const styles = sheet(`
  .plan { margin: 0 0 0.75rem; font-size: 1.05rem; }
  .plan strong { font-weight: 600; }
  .track {
    height: var(--conferbot-meter-height, 0.75rem);
    border-radius: 999px;
    background: var(--conferbot-meter-track, #e6e9ef);
    overflow: hidden;
  }
  .fill {
    height: 100%;
    border-radius: inherit;
    transition: width 0.3s, background-color 0.3s;
  }
  [data-level="ok"] .fill { background: var(--conferbot-meter-ok, #2f9e5b); }
  [data-level="warning"] .fill { background: var(--conferbot-meter-warning, #d99a0b); }
  [data-level="critical"] .fill { background: var(--conferbot-meter-critical, #d1382b); }
  [data-level="unlimited"] .fill {
    background: repeating-linear-gradient(135deg,
      var(--conferbot-meter-unlimited, #8fa7e8) 0 0.5rem, transparent 0.5rem 1rem);
  }
  .summary { margin: 0.4rem 0 0.9rem; }
  dl {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(7rem, 1fr));
    gap: 0.5rem 1rem;
    margin: 0;
  }
  dt { font-size: 0.8em; color: var(--conferbot-muted, #5b6576); }
  dd { margin: 0; font-size: 1.15rem; font-variant-numeric: tabular-nums; }
`);

/** @extends {ConferbotElement<Usage>} */
export class UsageElement extends ConferbotElement {
  #content = h("div", { class: "usage" });

  #liveRead = throttled(() => this.reload({ quiet: true }), { delayMs: USAGE_DELAY_MS, intervalMs: USAGE_INTERVAL_MS });

  constructor() {
    super("Usage this month", [styles]);
    this.body.append(this.#content);
  }

  /** @override */
  get followsLiveEvents() {
    return true;
  }

  /**
   * Any event (or `resync`) may mean calls were spent: re-read, throttled.
   * @override
   * @param {ConferbotEvent} _event
   */
  onLiveEvent(_event) {
    this.#liveRead.request();
  }

  /** @override */
  disconnectedCallback() {
    super.disconnectedCallback();
    this.#liveRead.cancel();
  }

  /** @override */
  loadingText() {
    return "Loading this month's usage…";
  }

  /**
   * @override
   * @param {AbortSignal} signal
   * @returns {Promise<Usage>}
   */
  async fetchView(signal) {
    return this.client.getUsage({ signal });
  }

  /**
   * @override
   * @param {Usage} usage
   */
  renderView(usage) {
    const limited = usage.limit !== null && usage.limit !== undefined;
    const fraction = limited ? shareUsed(usage.used, /** @type {number} */ (usage.limit)) : 0;
    const level = limited ? levelOf(fraction) : "unlimited";
    const summary = limited
      ? `${formatNumber(usage.used)} of ${formatNumber(/** @type {number} */ (usage.limit))} calls used (${formatPercent(fraction)})`
      : `${formatNumber(usage.used)} calls used; this plan has no monthly limit`;

    this.heading.textContent = `Usage in ${formatMonth(usage.month)}`;
    replaceChildren(this.#content,
      h("p", { class: "plan" }, h("strong", { "data-field": "plan" }, usage.plan), " plan"),
      meter(usage, fraction, level, summary),
      h("p", { class: "summary", "data-field": "summary" }, summary, level === "critical" ? " — the quota is nearly used up." : ""),
      h("dl", {},
        field("Used", "used", formatNumber(usage.used)),
        field("Limit", "limit", limited ? formatNumber(/** @type {number} */ (usage.limit)) : "Unlimited"),
        field("Remaining", "remaining",
          usage.remaining === null || usage.remaining === undefined ? "Unlimited" : formatNumber(usage.remaining))));
    return `Updated at ${formatTime(new Date())}.`;
  }
}

/**
 * The meter: `role="meter"` with its numbers when there is a limit; a striped
 * bar, described in words, when there is none.
 * @param {Usage} usage
 * @param {number} fraction
 * @param {Level} level
 * @param {string} summary
 */
function meter(usage, fraction, level, summary) {
  const fill = h("div", { class: "fill", part: "meter-fill" });
  fill.style.width = `${level === "unlimited" ? 100 : Math.min(fraction, 1) * 100}%`;
  const track = h("div", { class: "track", part: "meter-track" }, fill);
  const limited = level !== "unlimited";
  return h("div", {
    class: "meter",
    part: "meter",
    "data-level": level,
    role: limited ? "meter" : "img",
    "aria-label": limited ? "API calls used this month" : summary,
    "aria-valuemin": limited ? 0 : null,
    "aria-valuemax": limited ? usage.limit : null,
    "aria-valuenow": limited ? Math.min(usage.used, /** @type {number} */ (usage.limit)) : null,
    "aria-valuetext": limited ? summary : null,
  }, track);
}

/**
 * @param {string} label
 * @param {string} name the `data-field` that tests and styles can find
 * @param {string} value
 */
function field(label, name, value) {
  return h("div", {}, h("dt", {}, label), h("dd", { "data-field": name }, value));
}

/**
 * The share of the quota used, in 0..∞ (a limit of 0, the Free plan, counts as used up).
 * @param {number} used
 * @param {number} limit
 */
function shareUsed(used, limit) {
  return limit > 0 ? used / limit : 1;
}

/**
 * @param {number} fraction
 * @returns {Level}
 */
function levelOf(fraction) {
  if (fraction >= CRITICAL_AT) return "critical";
  if (fraction >= WARNING_AT) return "warning";
  return "ok";
}

customElements.define("conferbot-usage", UsageElement);
