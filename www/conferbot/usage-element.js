// <conferbot-usage>: this month's API calls against the plan's quota, as a
// meter that turns from calm to warning to critical as the quota runs out,
// and where the month ends at the pace so far ("at this pace the month ends
// at ~7,300 of 10,000 (73%)"), drawn on the meter as a lighter band.
//
// Usage counts API calls, not responses: a live event changes nothing here,
// so this widget does not follow the event stream. It reads `getUsage` when
// it starts, on Refresh, and once when the month turns; the forecast is
// recomputed every minute from what it holds (no call). `applyQuota(q)`
// takes what the BFF's quota headers say (`src/protocol/bff.rs`, the
// client's `page.quota`): every widget's client passes what its answers say
// to the page's usage widgets (`quota-feed.js`), so the numbers follow every
// answer of the page at no cost, and the widget says it is live.

import { h, replaceChildren } from "./dom.js";
import { ConferbotElement } from "./element-base.js";
import { formatApproximate, formatDay, formatMonth, formatNumber, formatPercent, formatTime } from "./format.js";
import { forecastMonth } from "./month-forecast.js";
import { followQuota } from "./quota-feed.js";
import { sheet } from "./styles.js";

/** @typedef {import("./package.js").Usage} Usage */
/** @typedef {import("./month-forecast.js").Forecast} Forecast */
/** @typedef {"ok" | "warning" | "critical" | "unlimited"} Level */
/**
 * What the BFF's quota headers say, as `applyQuota` takes it. Month:
 * `x-quota-month-used`, `-limit`, `-remaining` (`null` = unlimited), `-reset`
 * (ISO 8601, when the month turns). Minute: `x-quota-minute-limit`,
 * `-remaining`, `-reset` (seconds until there is room again).
 * @typedef {object} QuotaFacts
 * (The package's `Quota`, as `page.quota` and `error.quota` carry it, is one.)
 * @property {{used?: number | null, limit?: number | null, remaining?: number | null, reset?: string | null} | null} [month]
 * @property {{limit?: number | null, remaining?: number | null, reset?: number | null} | null} [minute]
 */

/** From this share of the quota on, the meter warns. */
const WARNING_AT = 0.75;
/** From this share on, the meter is critical. */
const CRITICAL_AT = 0.9;
/** How often the forecast is recomputed from what the widget holds (time moves the pace). */
const FORECAST_EVERY_MS = 60_000;

const styles = sheet(`
  .plan { margin: 0 0 0.75rem; font-size: 1.05rem; }
  .plan strong { font-weight: 600; }
  .track {
    position: relative;
    height: var(--conferbot-meter-height, 0.75rem);
    border-radius: 999px;
    background: var(--conferbot-meter-track, #e6e9ef);
    overflow: hidden;
  }
  .fill, .projection {
    position: absolute;
    inset: 0 auto 0 0;
    border-radius: inherit;
    transition: width 0.3s, background-color 0.3s;
  }
  .projection {
    background: repeating-linear-gradient(135deg,
      var(--conferbot-meter-projection, #b9c3d3) 0 0.3rem, transparent 0.3rem 0.6rem);
  }
  [data-level="ok"] .fill { background: var(--conferbot-meter-ok, #2f9e5b); }
  [data-level="warning"] .fill { background: var(--conferbot-meter-warning, #d99a0b); }
  [data-level="critical"] .fill { background: var(--conferbot-meter-critical, #d1382b); }
  [data-level="unlimited"] .fill {
    background: repeating-linear-gradient(135deg,
      var(--conferbot-meter-unlimited, #8fa7e8) 0 0.5rem, transparent 0.5rem 1rem);
  }
  .summary { margin: 0.4rem 0 0.2rem; }
  .forecast { margin: 0 0 0.9rem; color: var(--conferbot-muted, #5b6576); }
  .forecast[data-over="true"] { color: var(--conferbot-error-text, #7a1a12); }
  dl {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(7rem, 1fr));
    gap: 0.5rem 1rem;
    margin: 0;
  }
  dt { font-size: 0.8em; color: var(--conferbot-muted, #5b6576); }
  dd { margin: 0; font-size: 1.15rem; font-variant-numeric: tabular-nums; }
  .minute { margin: 0.6rem 0 0; font-size: 0.85em; color: var(--conferbot-muted, #5b6576); }
`);

/** @extends {ConferbotElement<Usage>} */
export class UsageElement extends ConferbotElement {
  #content = h("div", { class: "usage" });
  /** @type {Usage | null} what is shown */
  #usage = null;
  /** @type {QuotaFacts["minute"] | null} */
  #minute = null;
  /** @type {number | undefined} */
  #forecastTimer;
  /** The month whose end made the widget read again (once). */
  #turnedFrom = "";
  /** @type {(() => void) | null} stops following the page's answers' quota headers */
  #unfollow = null;

  constructor() {
    super("Usage this month", [styles]);
    this.body.append(this.#content);
  }

  /** @override */
  connectedCallback() {
    super.connectedCallback();
    window.clearInterval(this.#forecastTimer);
    this.#forecastTimer = window.setInterval(() => this.#onClock(), FORECAST_EVERY_MS);
    this.#unfollow?.();
    this.#unfollow = followQuota(() => this.baseUrl, (quota) => this.applyQuota(quota));
  }

  /** @override */
  disconnectedCallback() {
    super.disconnectedCallback();
    window.clearInterval(this.#forecastTimer);
    this.#unfollow?.();
    this.#unfollow = null;
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
    this.#usage = usage;
    this.#render();
    // Shown after its month ended (a copy read just before the turn): read the new month once.
    if (forecastMonth(usage, Date.now()).kind === "ended") window.setTimeout(() => this.#onClock(), 0);
    return `Updated at ${formatTime(new Date())}.`;
  }

  /**
   * Takes what the BFF's quota headers said on an answer (see {@link QuotaFacts}):
   * the month's used and limit replace what is shown (within the same month
   * the count never goes back; remaining is limit − used), and the widget
   * shows it is live.
   * Ignored until a first `getUsage` has given the plan and the month.
   * @param {QuotaFacts | null | undefined} quota
   */
  applyQuota(quota) {
    const held = this.#usage;
    const month = quota?.month;
    if (!held || !month || typeof month.used !== "number") return;
    const named = typeof month.reset === "string" ? monthBefore(month.reset) : null;
    const turned = named !== null && named !== held.month;
    const limit = month.limit === undefined ? held.limit : month.limit;
    const used = turned ? month.used : Math.max(held.used, month.used);
    this.#usage = {
      ...held,
      month: named ?? held.month,
      used,
      limit,
      // What is left follows from the two (the header's own may be of a lower count).
      remaining: limit === null ? null : Math.max(limit - used, 0),
    };
    if (quota?.minute) this.#minute = quota.minute;
    this.#render();
    this.showLiveState("on", "Live: follows every answer of the server");
  }

  /** Every minute: the forecast moves with time; at the month's end, one read of the new month. */
  #onClock() {
    const usage = this.#usage;
    if (!usage) return;
    if (forecastMonth(usage, Date.now()).kind === "ended" && this.#turnedFrom !== usage.month) {
      this.#turnedFrom = usage.month;
      this.reload({ quiet: true });
      return;
    }
    this.#render();
  }

  #render() {
    const usage = this.#usage;
    if (!usage) return;
    const limit = usage.limit ?? null;
    const limited = limit !== null;
    const fraction = limited ? shareUsed(usage.used, limit) : 0;
    const level = limited ? levelOf(fraction) : "unlimited";
    const summary = limited
      ? `${formatNumber(usage.used)} of ${formatNumber(limit)} calls used (${formatPercent(fraction)})`
      : `${formatNumber(usage.used)} calls used; this plan has no monthly limit`;
    const forecast = forecastMonth({ month: usage.month, used: usage.used, limit }, Date.now());
    const minute = this.#minute;

    this.heading.textContent = `Usage in ${formatMonth(usage.month)}`;
    replaceChildren(this.#content,
      h("p", { class: "plan" }, h("strong", { "data-field": "plan" }, usage.plan), " plan"),
      meter(usage, fraction, level, summary, forecast),
      h("p", { class: "summary", "data-field": "summary" }, summary, level === "critical" ? " — the quota is nearly used up." : ""),
      h("p", {
        class: "forecast",
        id: "forecast",
        "data-field": "forecast",
        "data-over": forecast.kind === "projected" && forecast.share !== null && forecast.share > 1 ? "true" : null,
      }, forecastWords(forecast, usage.month, limit)),
      h("dl", {},
        field("Used", "used", formatNumber(usage.used)),
        field("Limit", "limit", limited ? formatNumber(limit) : "Unlimited"),
        field("Remaining", "remaining",
          usage.remaining === null || usage.remaining === undefined ? "Unlimited" : formatNumber(usage.remaining))),
      typeof minute?.remaining === "number" && typeof minute.limit === "number"
        ? h("p", { class: "minute", "data-field": "minute" },
          `This minute: ${formatNumber(minute.remaining)} of ${formatNumber(minute.limit)} calls left.`)
        : null);
  }
}

/**
 * The forecast in words.
 * @param {Forecast} forecast
 * @param {string} month
 * @param {number | null} limit
 */
function forecastWords(forecast, month, limit) {
  switch (forecast.kind) {
    case "projected": {
      const about = `~${formatApproximate(forecast.projected)}`;
      if (limit === null) return `At this pace the month ends at ${about} calls (no monthly limit).`;
      const share = forecast.share === null ? "" : ` (${formatPercent(forecast.share)})`;
      const runsOut = forecast.runsOutAt === null ? "" : ` The quota runs out around ${formatDay(forecast.runsOutAt)}.`;
      return `At this pace the month ends at ${about} of ${formatNumber(limit)}${share}.${runsOut}`;
    }
    case "too-early":
      return "No forecast yet: the month is less than a day old.";
    case "ended":
      return `${formatMonth(month)} has ended; Refresh for this month's usage.`;
    case "not-begun":
      return `No forecast: this device's clock is before ${formatMonth(month)}.`;
    default:
      return "No forecast: the server named a month this dashboard cannot read.";
  }
}

/**
 * The meter: `role="meter"` with its numbers when there is a limit; a striped
 * bar, described in words, when there is none. The projected month-end is a
 * lighter band behind the fill; the forecast sentence describes the meter.
 * @param {Usage} usage
 * @param {number} fraction
 * @param {Level} level
 * @param {string} summary
 * @param {Forecast} forecast
 */
function meter(usage, fraction, level, summary, forecast) {
  const fill = h("div", { class: "fill", part: "meter-fill" });
  fill.style.width = `${level === "unlimited" ? 100 : Math.min(fraction, 1) * 100}%`;
  const projection = forecast.kind === "projected" && forecast.share !== null
    ? h("div", { class: "projection", part: "meter-projection" })
    : null;
  if (projection && forecast.kind === "projected" && forecast.share !== null) {
    projection.style.width = `${Math.min(forecast.share, 1) * 100}%`;
  }
  const track = h("div", { class: "track", part: "meter-track" }, projection, fill);
  const limited = level !== "unlimited";
  return h("div", {
    class: "meter",
    part: "meter",
    "data-level": level,
    role: limited ? "meter" : "img",
    "aria-label": limited ? "API calls used this month" : summary,
    "aria-describedby": "forecast",
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
 * The month (`YYYY-MM`) that ends at `reset` (ISO 8601, the first instant of the next month).
 * @param {string} reset
 * @returns {string | null}
 */
function monthBefore(reset) {
  const at = Date.parse(reset);
  if (Number.isNaN(at)) return null;
  const day = new Date(at - 1);
  return `${day.getUTCFullYear()}-${String(day.getUTCMonth() + 1).padStart(2, "0")}`;
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
