// Where this month's API calls end at the pace so far: the arithmetic of the
// usage widget's forecast, without any DOM.
//
// projected = used ÷ (elapsed part of the month) = used × month length ÷ time elapsed,
// the month being `getUsage`'s `month` (`YYYY-MM`, UTC, as the API counts it).
// In the first MIN_ELAPSED_MS of a month there is no forecast: a few calls in
// the first minutes would project to wild numbers.

/** Time into the month before a forecast is made: one day of use. */
export const MIN_ELAPSED_MS = 24 * 60 * 60 * 1000;

/**
 * What can be said of the month's end.
 * @typedef {{kind: "projected", projected: number, share: number | null, runsOutAt: number | null, endsAt: number}
 *   | {kind: "too-early", endsAt: number}
 *   | {kind: "ended", endsAt: number}
 *   | {kind: "not-begun"}
 *   | {kind: "unknown-month"}} Forecast
 * `share` is projected ÷ limit (`null` when unlimited or the limit is 0);
 * `runsOutAt` (ms) is when the quota runs out at this pace, if before the month ends.
 */

/**
 * The first instant of `month` and of the month after, in ms since the epoch (UTC).
 * @param {string} month `YYYY-MM`
 * @returns {{start: number, end: number} | null}
 */
export function monthBounds(month) {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (!match) return null;
  const year = Number(match[1]);
  const index = Number(match[2]) - 1;
  if (index < 0 || index > 11) return null;
  return { start: Date.UTC(year, index, 1), end: Date.UTC(year, index + 1, 1) };
}

/**
 * The forecast for `usage` at `now`.
 * @param {{month: string, used: number, limit: number | null}} usage
 * @param {number} now ms since the epoch
 * @returns {Forecast}
 */
export function forecastMonth({ month, used, limit }, now) {
  const bounds = monthBounds(month);
  if (!bounds) return { kind: "unknown-month" };
  const { start, end } = bounds;
  if (now < start) return { kind: "not-begun" };
  if (now >= end) return { kind: "ended", endsAt: end };
  const elapsed = now - start;
  if (elapsed < MIN_ELAPSED_MS) return { kind: "too-early", endsAt: end };
  const projected = (used * (end - start)) / elapsed;
  const limited = limit !== null && limit > 0;
  const runsOutAt = limited && used > 0 && used < limit && projected > limit
    ? start + (elapsed * limit) / used
    : null;
  return { kind: "projected", projected, share: limited ? projected / limit : null, runsOutAt, endsAt: end };
}
