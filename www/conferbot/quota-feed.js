// What the BFF says of the quota on every answer a widget of this page gets
// (`page.quota`, via each client's `onQuota`), passed on to the widgets that
// show it (<conferbot-usage>): so the usage meter follows the month as the
// page's other widgets read, at no call of its own. Answers of one BFF feed
// only the widgets pointed at the same base URL.

/** @typedef {import("./package.js").Quota} Quota */

/** @type {Set<(baseUrl: string, quota: Quota) => void>} */
const followers = new Set();

/**
 * Says what an answer from the BFF at `baseUrl` said of the quota.
 * @param {string} baseUrl
 * @param {Quota} quota
 */
export function publishQuota(baseUrl, quota) {
  for (const follower of followers) {
    try {
      follower(baseUrl, quota);
    } catch (error) {
      // One widget's failure must not keep the others from the news.
      console.error(error);
    }
  }
}

/**
 * Calls `follower(quota)` for every answer from the BFF whose base URL
 * `baseUrl()` names at that moment (a widget's `base-url` may change).
 * @param {() => string} baseUrl
 * @param {(quota: Quota) => void} follower
 * @returns {() => void} stops following
 */
export function followQuota(baseUrl, follower) {
  /** @type {(from: string, quota: Quota) => void} */
  const entry = (from, quota) => {
    if (from === baseUrl()) follower(quota);
  };
  followers.add(entry);
  return () => followers.delete(entry);
}
