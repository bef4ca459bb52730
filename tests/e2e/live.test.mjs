// Live updates of the chatbot table: the BFF with its embedded sandbox
// registers itself as the sandbox's webhook receiver; a response simulated on
// the sandbox reaches the page as a Server-Sent Event, and the table applies
// it from the event itself (its row's count + 1), without a read: 0 upstream
// calls. Events that change nothing a row shows cost nothing either.

import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import {
  CHATBOT_LIST_READS, USAGE_READS, countRequests, launchChromium, openPage, settled, shownNumber, widgets,
} from "./support/browser.mjs";
import { sandboxApi } from "./support/sandbox-api.mjs";
import { ROOT, startBff, stopAll } from "./support/servers.mjs";

/**
 * After the last change shows, how long the test keeps counting calls before
 * it reads the sandbox's count: long enough for a delayed re-read (the
 * widgets' old behaviour waited up to 2 s) to be caught. Not a timing assertion.
 */
const LATE_CALLS_MS = 1500;

describe("live updates on the sandbox (Server-Sent Events from the BFF)", () => {
  /** @type {import("./support/servers.mjs").Server | undefined} */
  let bff;
  /** @type {import("playwright-core").Browser | undefined} */
  let browser;
  /** @type {ReturnType<typeof sandboxApi>} */
  let sandbox;

  before(async () => {
    // The BFF's own cache policy, as users get it.
    bff = await startBff({ cacheTtl: null, args: ["--rate", "10000/1s", "--sandbox-rate", "10000/1s"] });
    const started = bff;
    sandbox = sandboxApi(started.urls[1]);
    await sandbox.waitForReceiver(() => started.output());
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stopAll(bff);
  });

  /** A dashboard, loaded, with its live stream on. */
  async function openDashboard() {
    const opened = await openPage(/** @type {import("playwright-core").Browser} */ (browser));
    const w = widgets(opened.page);
    await opened.page.goto(`${bff?.url}/`);
    await Promise.all([settled(w.chatbots), settled(w.usage), settled(w.webhooks)]);
    await w.chatbots.locator("tbody tr").first().waitFor();
    await w.chatbots.locator(".live[role=status]").filter({ hasText: "Live updates on" }).waitFor();
    return { ...opened, w };
  }

  test("a new response raises its row's count from the event alone: highlighted, sort and focus kept, 0 upstream calls", async (t) => {
    const { context, page, pageErrors, w } = await openDashboard();

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

    const statsBefore = await sandbox.stats();
    const chatbotReads = countRequests(page, CHATBOT_LIST_READS);
    const usageReads = countRequests(page, USAGE_READS);
    const simulated = await sandbox.simulateResponse(id);
    assert.equal(simulated.delivery.botId, id, "the documented flat delivery names the chatbot as botId");
    assert.ok(simulated.deliveries >= 1, `the sandbox delivered to the BFF: ${JSON.stringify(simulated)}`);

    const updated = w.chatbots.locator(`tbody tr[data-id="${id}"]`);
    const count = (/** @type {number} */ n) => updated.locator("td.numeric").filter({ hasText: new RegExp(`^${n.toLocaleString("en-US")}$`) });
    await count(before + 1).waitFor();
    assert.equal(await updated.evaluate((el) => el.classList.contains("changed")), true, "the changed row is highlighted");
    const shot = path.join(ROOT, "target", "e2e", "live-update.png");
    await mkdir(path.dirname(shot), { recursive: true });
    await w.chatbots.screenshot({ path: shot });
    assert.equal(await updated.locator("th.name").textContent(), name);
    assert.equal(await sortButton.evaluate((el) => el.matches(":focus")), true, "the focus stays on the sort button");

    // With the focus on the row's own name button, a second event keeps it there.
    await updated.getByRole("button", { name: name ?? "", exact: true }).focus();
    await sandbox.simulateResponse(id);
    await count(before + 2).waitFor();
    assert.equal(await updated.locator("button.choose").evaluate((el) => el.matches(":focus")), true,
      "the focus stays on the row's button when its count changes");

    await page.waitForTimeout(LATE_CALLS_MS);
    const calls = (await sandbox.stats()).apiCalls - statsBefore.apiCalls;
    t.diagnostic(`two response.created events cost ${calls} upstream call(s)`);
    console.log(`live update: 2 response.created events for a chatbot shown cost ${calls} upstream call(s), `
      + `${chatbotReads()} chatbot list read(s) and ${usageReads()} usage read(s) by the page`);
    assert.equal(calls, 0, "the table applies the event: no upstream call");
    assert.equal(chatbotReads(), 0, "the page did not read the chatbots again");
    assert.equal(usageReads(), 0, "an event changes nothing in usage: not read again");

    assert.equal(await page.evaluate(() => /** @type {any} */ (window).__noReload), true, "the page was not reloaded");
    assert.equal(await w.chatbots.locator('th[data-key="responseCount"]').getAttribute("aria-sort"), "ascending", "the sort stays");
    assert.match(await w.pageLabel.textContent() ?? "", /^Page 1 of /, "the page stays");
    const idsNow = await w.chatbots.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")));
    assert.deepEqual([...idsNow].sort(), [...idsShown].sort(), "the same chatbots are shown");
    assert.equal(await w.chatbots.locator(".body").getAttribute("aria-busy"), "false");

    // The sandbox agrees (read after the counting, since this read is an API call too).
    const truth = (await sandbox.chatbots(1, 10)).data.find((/** @type {{id: string}} */ bot) => bot.id === id);
    assert.equal(truth.responseCount, before + 2);
    assert.deepEqual(pageErrors, []);
    await context.close();
  });

  test("events that change nothing a row shows (another page's chatbot, response.updated, conversations) cost nothing", async (t) => {
    const { context, page, pageErrors, w } = await openDashboard();
    const offPage = (await sandbox.chatbots(2, 10)).data[0];
    const onPage = /** @type {string} */ (await w.chatbots.locator("tbody tr").first().getAttribute("data-id"));
    const shownBefore = await w.chatbots.locator("tbody td.numeric").allTextContents();

    const statsBefore = await sandbox.stats();
    const chatbotReads = countRequests(page, CHATBOT_LIST_READS);
    await sandbox.simulateResponse(offPage.id);
    await sandbox.simulateResponse(onPage, "response.updated");
    await sandbox.simulateResponse(onPage, "conversation.started");
    await sandbox.simulateResponse(onPage, "conversation.completed");
    await page.waitForTimeout(LATE_CALLS_MS);
    const calls = (await sandbox.stats()).apiCalls - statsBefore.apiCalls;
    t.diagnostic(`four events that change nothing shown cost ${calls} upstream call(s)`);
    assert.equal(calls, 0);
    assert.equal(chatbotReads(), 0);
    assert.deepEqual(await w.chatbots.locator("tbody td.numeric").allTextContents(), shownBefore);
    assert.equal(await w.chatbots.locator("tbody tr.changed").count(), 0, "nothing is highlighted");
    assert.deepEqual(pageErrors, []);
    await context.close();
  });

  test("an event during a slow load of the table: that load finishes, then one read shows the count", async () => {
    const { context, page, pageErrors, w } = await openDashboard();
    // Page 2, which the BFF has not cached: its load reaches the sandbox, and the armed delay.
    const { id, responseCount: before } = (await sandbox.chatbots(2, 10)).data[0];
    const chatbotReads = countRequests(page, CHATBOT_LIST_READS);
    let aborted = 0;
    page.on("requestfailed", (request) => { if (CHATBOT_LIST_READS.test(request.url())) aborted += 1; });
    await sandbox.armFault("delay", 1, 1500);
    await w.chatbotButton("Next page").click();
    await w.chatbots.locator(".body[aria-busy='true']").waitFor();
    await sandbox.simulateResponse(id);
    await w.chatbots.locator(`tbody tr[data-id="${id}"] td.numeric`)
      .filter({ hasText: new RegExp(`^${(before + 1).toLocaleString("en-US")}$`) }).waitFor();
    await settled(w.chatbots);
    // The slow answer may or may not have counted the response: one more read settles it, not a guess.
    assert.equal(chatbotReads(), 2, "the slow load and one read after it");
    assert.equal(aborted, 0, "the slow load was not restarted");
    assert.deepEqual(pageErrors, []);
    await context.close();
  });

  test("offline, the indicator says live updates are paused; back online, on again", async () => {
    const { context, pageErrors, w } = await openDashboard();
    const indicator = w.chatbots.locator(".live[role=status]");
    await context.setOffline(true);
    await indicator.filter({ hasText: "Live updates paused — reconnecting" }).waitFor();
    assert.equal(await indicator.getAttribute("data-state"), "reconnecting");
    await context.setOffline(false);
    await indicator.filter({ hasText: "Live updates on" }).waitFor();
    assert.deepEqual(pageErrors, []);
    await context.close();
  });
});
