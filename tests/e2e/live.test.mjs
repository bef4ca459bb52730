// Live updates: the BFF with its embedded sandbox registers itself as the
// sandbox's webhook receiver; a response simulated on the sandbox reaches the
// page as a Server-Sent Event, and the chatbot table shows the new count
// without a reload, at the cost of only the reads the event invalidated.

import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { launchChromium, openPage, settled, shownNumber, widgets } from "./support/browser.mjs";
import { sandboxApi } from "./support/sandbox-api.mjs";
import { ROOT, startBff, stopAll } from "./support/servers.mjs";

/** Upstream calls one event may cost: the page's re-read, the usage re-read, and one to spare. */
const MAX_CALLS_PER_EVENT = 3;
/** How long after the row updates the usage widget may still re-read (its delay is 2 s). */
const USAGE_SETTLE_MS = 3500;
/**
 * Counts the page's requests for chatbot lists from now on.
 * @param {import("playwright-core").Page} page
 */
function countChatbotReads(page) {
  let count = 0;
  page.on("request", (request) => {
    if (/\/external\/v1\/chatbots\?/.test(request.url())) count += 1;
  });
  return () => count;
}

/** A hang guard for the BFF's self-registration, not a timing assertion. */
const REGISTRATION_TIMEOUT_MS = 15_000;

describe("live updates on the sandbox (Server-Sent Events from the BFF)", () => {
  /** @type {import("./support/servers.mjs").Server | undefined} */
  let bff;
  /** @type {import("playwright-core").Browser | undefined} */
  let browser;
  /** @type {ReturnType<typeof sandboxApi>} */
  let sandbox;

  before(async () => {
    // A real cache (5 s), so a fresh count proves the event dropped the cached page.
    bff = await startBff({ cacheTtl: "5s", args: ["--rate", "10000/1s", "--sandbox-rate", "10000/1s"] });
    sandbox = sandboxApi(bff.urls[1]);
    const deadline = Date.now() + REGISTRATION_TIMEOUT_MS;
    while (!(await sandbox.webhooks()).some((/** @type {{url: string}} */ hook) => hook.url.endsWith("/webhooks/incoming"))) {
      if (Date.now() > deadline) throw new Error(`the BFF did not register its webhook receiver:\n${bff.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stopAll(bff);
  });

  test("a new response raises its row's count in place, keeping sort and focus, for at most 3 upstream calls", async (t) => {
    const { context, page, pageErrors } = await openPage(/** @type {import("playwright-core").Browser} */ (browser));
    const w = widgets(page);
    await page.goto(`${bff?.url}/`);
    await Promise.all([settled(w.chatbots), settled(w.usage), settled(w.webhooks)]);
    await w.chatbots.locator("tbody tr").first().waitFor();
    const indicator = w.chatbots.locator(".live[role=status]");
    await indicator.filter({ hasText: "Live updates on" }).waitFor();
    assert.equal(await w.usage.locator(".live").textContent(), "Live updates on");

    // Sort by responses (the focus stays on that header's button), mark the page.
    const sortButton = w.chatbots.getByRole("button", { name: "Responses", exact: true });
    await sortButton.click();
    await w.chatbots.locator('th[data-key="responseCount"][aria-sort="ascending"]').waitFor();
    const row = w.chatbots.locator("tbody tr").nth(2);
    const id = /** @type {string} */ (await row.getAttribute("data-id"));
    const name = await row.locator("th.name").textContent();
    const before = shownNumber(await row.locator("td.numeric").textContent() ?? "");
    const idsShown = await w.chatbots.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")));
    await page.evaluate(() => { /** @type {any} */ (window).__noReload = true; });
    // Let the usage widget's and the cache's clocks run past the first load.
    await page.waitForTimeout(1000);

    const statsBefore = await sandbox.stats();
    const chatbotReads = countChatbotReads(page);
    const simulated = await sandbox.simulateResponse(id);
    assert.equal(simulated.data.chatbotId, id);
    assert.ok(simulated.deliveries >= 1, `the sandbox delivered to the BFF: ${JSON.stringify(simulated)}`);

    const updated = w.chatbots.locator(`tbody tr[data-id="${id}"]`);
    await updated.locator("td.numeric").filter({ hasText: new RegExp(`^${(before + 1).toLocaleString("en-US")}$`) }).waitFor();
    assert.equal(await updated.evaluate((el) => el.classList.contains("changed")), true, "the changed row is highlighted");
    const shot = path.join(ROOT, "target", "e2e", "live-update.png");
    await mkdir(path.dirname(shot), { recursive: true });
    await w.chatbots.screenshot({ path: shot });
    assert.equal(await updated.locator("th.name").textContent(), name);
    await page.waitForTimeout(USAGE_SETTLE_MS);
    const statsAfter = await sandbox.stats();

    const calls = statsAfter.apiCalls - statsBefore.apiCalls;
    t.diagnostic(`one response.created event cost ${calls} upstream call(s)`);
    console.log(`live update: one response.created event cost ${calls} upstream call(s)`);
    assert.ok(calls >= 1 && calls <= MAX_CALLS_PER_EVENT, `upstream calls for one event: ${calls}`);
    assert.equal(chatbotReads(), 1, "the page shown was read again once");

    assert.equal(await page.evaluate(() => /** @type {any} */ (window).__noReload), true, "the page was not reloaded");
    assert.equal(await w.chatbots.locator('th[data-key="responseCount"]').getAttribute("aria-sort"), "ascending", "the sort stays");
    assert.match(await w.pageLabel.textContent() ?? "", /^Page 1 of /, "the page stays");
    assert.equal(await sortButton.evaluate((el) => el.matches(":focus")), true, "the focus stays on the sort button");
    const idsNow = await w.chatbots.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")));
    assert.deepEqual([...idsNow].sort(), [...idsShown].sort(), "the same chatbots are shown");
    assert.equal(await w.chatbots.locator(".body").getAttribute("aria-busy"), "false");

    // The sandbox agrees (read after the count, since this read is an API call too).
    const truth = (await sandbox.chatbots(1, 10)).data.find((/** @type {{id: string}} */ bot) => bot.id === id);
    assert.equal(truth.responseCount, before + 1);
    assert.deepEqual(pageErrors, []);
    await context.close();
  });

  test("an event for a chatbot not on the page shown does not re-read the table", async (t) => {
    const { context, page, pageErrors } = await openPage(/** @type {import("playwright-core").Browser} */ (browser));
    const w = widgets(page);
    await page.goto(`${bff?.url}/`);
    await Promise.all([settled(w.chatbots), settled(w.usage)]);
    await w.chatbots.locator(".live").filter({ hasText: "Live updates on" }).waitFor();
    const offPage = (await sandbox.chatbots(2, 10)).data[0];
    const shownBefore = await w.chatbots.locator("tbody td.numeric").allTextContents();
    await page.waitForTimeout(1000);

    const statsBefore = await sandbox.stats();
    const chatbotReads = countChatbotReads(page);
    await sandbox.simulateResponse(offPage.id);
    await page.waitForTimeout(USAGE_SETTLE_MS);
    const calls = (await sandbox.stats()).apiCalls - statsBefore.apiCalls;
    t.diagnostic(`an event off the page cost ${calls} upstream call(s) (the usage re-read at most)`);
    assert.ok(calls <= 1, `only the usage widget may re-read: ${calls}`);
    assert.equal(chatbotReads(), 0);
    assert.deepEqual(await w.chatbots.locator("tbody td.numeric").allTextContents(), shownBefore);
    assert.deepEqual(pageErrors, []);
    await context.close();
  });

  test("offline, the indicator says live updates are paused; back online, on again", async () => {
    const { context, page, pageErrors } = await openPage(/** @type {import("playwright-core").Browser} */ (browser));
    const w = widgets(page);
    await page.goto(`${bff?.url}/`);
    const indicator = w.chatbots.locator(".live[role=status]");
    await indicator.filter({ hasText: "Live updates on" }).waitFor();
    await context.setOffline(true);
    await indicator.filter({ hasText: "Live updates paused — reconnecting" }).waitFor();
    assert.equal(await indicator.getAttribute("data-state"), "reconnecting");
    await context.setOffline(false);
    await indicator.filter({ hasText: "Live updates on" }).waitFor();
    assert.deepEqual(pageErrors, []);
    await context.close();
  });
});
