// The usage widget's forecast: with a known `used` set on the sandbox
// (`POST /sandbox/usage`) and the browser's clock fixed at a chosen instant of
// the sandbox's month, the widget's sentence is checked against the
// projection computed here from the month and that instant. Also: the first
// hours of a month, a month that has ended, and `applyQuota`.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { USAGE_READS, countRequests, launchChromium, openPage, settled, shownNumber, widgets } from "./support/browser.mjs";
import { sandboxApi } from "./support/sandbox-api.mjs";
import { startBff, stopAll } from "./support/servers.mjs";

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The first instant of `month` (`YYYY-MM`) and of the next, UTC.
 * @param {string} month
 */
function bounds(month) {
  const [year, index] = month.split("-").map(Number);
  return { start: Date.UTC(year, index - 1, 1), end: Date.UTC(year, index, 1) };
}

/**
 * What the widget should say of `month` with `used` calls of `limit` at `at`:
 * used ÷ elapsed part of the month; no forecast in the month's first day.
 * @param {string} month
 * @param {number} used
 * @param {number | null} limit
 * @param {number} at ms since the epoch
 */
function expectedForecast(month, used, limit, at) {
  const { start, end } = bounds(month);
  const elapsed = at - start;
  if (elapsed < DAY_MS) return "No forecast yet: the month is less than a day old.";
  const projected = (used / elapsed) * (end - start);
  const about = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 2 }).format(Math.round(projected));
  if (limit === null) return `At this pace the month ends at ~${about} calls (no monthly limit).`;
  const percent = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 0 }).format(projected / limit);
  let words = `At this pace the month ends at ~${about} of ${limit.toLocaleString("en-US")} (${percent}).`;
  if (projected > limit && used < limit) {
    const runsOut = start + (elapsed * limit) / used;
    words += ` The quota runs out around ${new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", timeZone: "UTC" }).format(runsOut)}.`;
  }
  return words;
}

describe("the usage widget's forecast on the sandbox (Starter plan)", () => {
  /** @type {import("./support/servers.mjs").Server | undefined} */
  let bff;
  /** @type {import("playwright-core").Browser | undefined} */
  let browser;
  /** @type {ReturnType<typeof sandboxApi>} */
  let sandbox;
  /** The sandbox's month (its clock is the real one). */
  let month = "";

  before(async () => {
    bff = await startBff({ args: ["--rate", "10000/1s", "--sandbox-rate", "10000/1s"] });
    sandbox = sandboxApi(bff.urls[1]);
    month = (await sandbox.usage()).month;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stopAll(bff);
  });

  /**
   * The usage widget alone on a page of the BFF's origin (so that every usage
   * read counts is its own: the webhooks widget reads usage too, for the
   * plan), whose clock reads `at`, with `used` calls set on the sandbox first.
   * @param {number} used
   * @param {number} at
   */
  async function usageAt(used, at) {
    await sandbox.setUsed(used);
    const opened = await openPage(/** @type {import("playwright-core").Browser} */ (browser));
    await opened.page.clock.setFixedTime(at);
    const usageReads = countRequests(opened.page, USAGE_READS);
    await opened.page.route(`${bff?.url}/usage-alone.html`, (route) => route.fulfill({
      contentType: "text/html",
      body: '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Usage</title>'
        + '<script type="module" src="/conferbot/usage-element.js"></script></head>'
        + "<body><main><conferbot-usage></conferbot-usage></main></body></html>",
    }));
    await opened.page.goto(`${bff?.url}/usage-alone.html`);
    const w = widgets(opened.page);
    await settled(w.usage);
    await w.usage.locator('[data-field="forecast"]').waitFor();
    const shownUsed = shownNumber(await w.usage.locator('dd[data-field="used"]').textContent() ?? "");
    const direct = await sandbox.usage();
    // Reading usage counts as a call: what was shown lies between what was set and what is now.
    assert.ok(shownUsed >= used && shownUsed <= direct.used, `shown ${shownUsed}, set ${used}, now ${direct.used}`);
    return { ...opened, w, shownUsed, limit: direct.limit, usageReads };
  }

  test("mid-month, the month's end is projected at the pace so far, and drawn on the meter", async (t) => {
    const { start } = bounds(month);
    const at = start + 12 * DAY_MS + 7 * HOUR_MS;
    const { context, w, shownUsed, limit, pageErrors } = await usageAt(3000, at);
    const words = await w.usage.locator('[data-field="forecast"]').textContent();
    t.diagnostic(`${month}, ${new Date(at).toISOString()}, ${shownUsed} used: ${words}`);
    assert.equal(words, expectedForecast(month, shownUsed, limit, at));
    assert.match(words ?? "", /^At this pace the month ends at ~[\d,]+ of 10,000 \(\d+%\)\.$/);
    const meter = w.usage.locator(".meter");
    assert.equal(await meter.getAttribute("aria-describedby"), "forecast");
    const share = (await w.usage.locator(".projection").evaluate((el) => el.getBoundingClientRect().width))
      / (await w.usage.locator(".track").evaluate((el) => el.getBoundingClientRect().width));
    const { end } = bounds(month);
    const projected = (shownUsed / (at - start)) * (end - start);
    assert.ok(Math.abs(share - projected / limit) < 0.01, `the band covers ${share} of the track, the projection ${projected / limit}`);
    assert.deepEqual(pageErrors, []);
    await context.close();
  });

  test("a pace over the quota says so, and when it runs out", async () => {
    const { start } = bounds(month);
    const at = start + 10 * DAY_MS + 3 * HOUR_MS;
    const { context, w, shownUsed, limit } = await usageAt(6000, at);
    const forecast = w.usage.locator('[data-field="forecast"]');
    assert.equal(await forecast.textContent(), expectedForecast(month, shownUsed, limit, at));
    assert.match(await forecast.textContent() ?? "", /The quota runs out around [A-Z][a-z]{2} \d+\.$/);
    assert.equal(await forecast.getAttribute("data-over"), "true");
    await context.close();
  });

  test("in the first hours of a month there is no forecast, only what was used", async () => {
    const { start } = bounds(month);
    const { context, w } = await usageAt(40, start + 5 * HOUR_MS);
    assert.equal(await w.usage.locator('[data-field="forecast"]').textContent(), "No forecast yet: the month is less than a day old.");
    assert.equal(await w.usage.locator(".projection").count(), 0);
    assert.match(await w.usage.locator('[data-field="summary"]').textContent() ?? "", /^4\d of 10,000 calls used/);
    await context.close();
  });

  test("a month that has ended says so and is read once more, not again and again", async () => {
    const { end } = bounds(month);
    const { context, page, w, usageReads } = await usageAt(100, end + HOUR_MS);
    const monthName = new Intl.DateTimeFormat("en-US", { month: "long", year: "numeric", timeZone: "UTC" }).format(bounds(month).start);
    await w.usage.locator('[data-field="forecast"]').filter({ hasText: `${monthName} has ended; Refresh for this month's usage.` }).waitFor();
    // The second read comes at once after the first; give a loop time to show itself.
    await page.waitForTimeout(1000);
    await settled(w.usage);
    assert.equal(usageReads(), 2, "the first read, and one more for the new month");
    await context.close();
  });

  test("the page's other widgets feed it: live from their answers' quota headers, with no read of its own", async () => {
    await sandbox.setUsed(2000);
    const opened = await openPage(/** @type {import("playwright-core").Browser} */ (browser));
    const usageReads = countRequests(opened.page, USAGE_READS);
    await opened.page.route(`${bff?.url}/usage-and-chatbots.html`, (route) => route.fulfill({
      contentType: "text/html",
      body: '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Usage</title>'
        + '<script type="module" src="/conferbot/index.js"></script></head>'
        + "<body><main><conferbot-usage></conferbot-usage><conferbot-chatbots></conferbot-chatbots></main></body></html>",
    }));
    await opened.page.goto(`${bff?.url}/usage-and-chatbots.html`);
    const w = widgets(opened.page);
    await settled(w.usage);
    await settled(w.chatbots);
    const shown = shownNumber(await w.usage.locator('dd[data-field="used"]').textContent() ?? "");
    assert.ok(shown >= 2000, `shown ${shown}`);
    // A read of the chatbots table (cached or not) carries the BFF's quota headers.
    await w.chatbots.locator("button.refresh").click();
    await settled(w.chatbots);
    const live = w.usage.locator(".live");
    await live.filter({ hasText: "Live: follows every answer of the server" }).waitFor();
    assert.equal(await live.getAttribute("data-state"), "on");
    const after = shownNumber(await w.usage.locator('dd[data-field="used"]').textContent() ?? "");
    const direct = await sandbox.usage();
    assert.ok(after >= shown && after <= direct.used, `shown ${after} after ${shown}, the sandbox at ${direct.used}`);
    assert.equal(usageReads(), 1, "its one read when it started");
    assert.deepEqual(opened.pageErrors, []);
    await opened.context.close();
  });

  test("applyQuota takes what the quota headers say without a call, and the widget says it is live", async () => {
    const { start } = bounds(month);
    const at = start + 15 * DAY_MS;
    const { context, w, usageReads } = await usageAt(1000, at);
    const live = w.usage.locator(".live");
    assert.equal(await live.isVisible(), false, "not live before anything feeds it");
    const statsBefore = await sandbox.stats();
    await w.usage.evaluate((el) => /** @type {any} */ (el).applyQuota({
      month: { used: 4200, limit: 10000, remaining: 5800 },
      minute: { limit: 60, remaining: 42, reset: 0 },
    }));
    assert.equal(await w.usage.locator('dd[data-field="used"]').textContent(), "4,200");
    assert.equal(await w.usage.locator('dd[data-field="remaining"]').textContent(), "5,800");
    assert.equal(await w.usage.locator('[data-field="forecast"]').textContent(), expectedForecast(month, 4200, 10000, at));
    assert.equal(await w.usage.locator('[data-field="minute"]').textContent(), "This minute: 42 of 60 calls left.");
    assert.equal(await live.textContent(), "Live: follows every answer of the server");
    assert.equal(await live.getAttribute("data-state"), "on");
    // Within a month the count never goes back (an answer that knew less).
    await w.usage.evaluate((el) => /** @type {any} */ (el).applyQuota({ month: { used: 4100, limit: 10000, remaining: 5900 } }));
    assert.equal(await w.usage.locator('dd[data-field="used"]').textContent(), "4,200");
    assert.equal((await sandbox.stats()).apiCalls, statsBefore.apiCalls, "no upstream call");
    assert.equal(usageReads(), 1, "no read");
    await context.close();
  });
});
