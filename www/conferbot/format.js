// How numbers, dates and counts read on screen, in the page's language.

/** The language the page declares (`<html lang>`), else the browser's. */
function locale() {
  return document.documentElement.lang || undefined;
}

/**
 * `1234` → `"1,234"` (in the page's language).
 * @param {number} n
 */
export function formatNumber(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

/**
 * `3, "chatbot"` → `"3 chatbots"`; `1, "chatbot"` → `"1 chatbot"`.
 * English plurals by adding "s", which is all the widgets' nouns need.
 * @param {number} n
 * @param {string} noun
 */
export function formatCount(n, noun) {
  return `${formatNumber(n)} ${n === 1 ? noun : `${noun}s`}`;
}

/**
 * An ISO 8601 time as a short date and time; anything unparsable as itself,
 * so a surprising server value is still shown rather than "Invalid Date".
 * @param {string} iso
 */
export function formatDateTime(iso) {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(time);
}

/**
 * The time of day (`"3:04 PM"`), for "updated at".
 * @param {Date} date
 */
export function formatTime(date) {
  return new Intl.DateTimeFormat(locale(), { timeStyle: "short" }).format(date);
}

/**
 * A month written `YYYY-MM` as its name and year (`"March 2025"`).
 * @param {string} month
 */
export function formatMonth(month) {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (!match) return month;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
  return new Intl.DateTimeFormat(locale(), { month: "long", year: "numeric", timeZone: "UTC" }).format(date);
}

/**
 * A fraction in 0..1 as a whole percentage (`0.756` → `"76%"`).
 * @param {number} fraction
 */
export function formatPercent(fraction) {
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 0 }).format(fraction);
}

/**
 * A projection, to two significant digits (`7259.4` → `"7,300"`): a forecast
 * is not precise to the call, and should not look it.
 * @param {number} n
 */
export function formatApproximate(n) {
  return new Intl.NumberFormat(locale(), { maximumSignificantDigits: 2 }).format(Math.round(n));
}

/**
 * A day of the month in UTC, as the API's months are (`"Nov 24"`).
 * @param {number} ms since the epoch
 */
export function formatDay(ms) {
  return new Intl.DateTimeFormat(locale(), { month: "short", day: "numeric", timeZone: "UTC" }).format(ms);
}
