// What live dashboards cost the quota, counted: with 1 and with 5 dashboards
// open on one BFF (its default cache policy, as users get it), each showing
// the responses of the same chatbot of the table's first page, N
// `response.created` events for that chatbot. Every dashboard must show each
// new response (and its row's new count); the upstream calls they cost are
// counted by the sandbox (`GET /sandbox/stats`, every call that reached it)
// and by the BFF per operation (`/metrics`): 0 for the chatbot table and
// usage, and 0 for the responses views too (they show a new response from
// its event, and read nothing for it; the target is at most 1 per event for
// all of them together). Then a page view: the BFF applied the events to its
// cache (patched counts), so a fresh dashboard costs no call and shows the
// sandbox's truth. The BFF's one getUsage of its own (learning the plan for
// its --refresh-budget) comes with the first dashboard, before the counting.
//
// Each dashboard is its own browser context, as five people's browsers are
// (tabs of one browser share six connections per host, five of which the
// event streams would hold).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  CHATBOT_LIST_READS, RESPONSE_READS, USAGE_READS, countRequests, launchChromium, openPage, settled, shownNumber, widgets,
} from "./support/browser.mjs";
import { sandboxApi } from "./support/sandbox-api.mjs";
import { callsBetween, startBff, stopAll, upstreamCallsByRoute } from "./support/servers.mjs";

/** Events per run. */
const EVENTS = 5;
/**
 * After the last event shows everywhere, calls are still counted this long
 * before the totals are read, so that a late or repeated read is caught. Not
 * a timing assertion: the assertions are on counts.
 */
const LATE_CALLS_MS = 1500;

describe("upstream calls per event with live dashboards open", () => {
  /** @type {import("./support/servers.mjs").Server | undefined} */
  let bff;
  /** @type {import("playwright-core").Browser | undefined} */
  let browser;
  /** @type {ReturnType<typeof sandboxApi>} */
  let sandbox;
  /** @type {{id: string, name: string, responseCount: number}} */
  let bot;

  before(async () => {
    bff = await startBff({ cacheTtl: null, args: ["--rate", "10000/1s", "--sandbox-rate", "10000/1s"] });
    const started = bff;
    sandbox = sandboxApi(started.urls[1]);
    await sandbox.waitForReceiver(() => started.output());
    bot = (await sandbox.chatbots(1, 10)).data[3];
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stopAll(bff);
  });

  /** A dashboard showing `bot`'s responses, live. */
  async function openDashboard() {
    const opened = await openPage(/** @type {import("playwright-core").Browser} */ (browser));
    const w = widgets(opened.page);
    await opened.page.goto(`${bff?.url}/`);
    await Promise.all([settled(w.chatbots), settled(w.usage), settled(w.webhooks)]);
    await w.chatbots.locator(`tbody tr[data-id="${bot.id}"] button.choose`).click();
    await w.responses.locator("ol.responses > li[data-id]").first().waitFor();
    await settled(w.responses);
    for (const widget of [w.chatbots, w.responses]) {
      await widget.locator(".live").filter({ hasText: "Live updates on" }).waitFor();
    }
    return {
      ...opened,
      w,
      reads: {
        chatbots: countRequests(opened.page, CHATBOT_LIST_READS),
        usage: countRequests(opened.page, USAGE_READS),
        responses: countRequests(opened.page, RESPONSE_READS),
      },
    };
  }

  for (const tabs of [1, 5]) {
    test(`${tabs} dashboard(s), ${EVENTS} events: 0 calls for the table, usage and the responses views`, async (t) => {
      const dashboards = await Promise.all(Array.from({ length: tabs }, () => openDashboard()));
      const countBefore = shownNumber(await dashboards[0].w.chatbots.locator(`tbody tr[data-id="${bot.id}"] td.numeric`).textContent() ?? "");

      const statsBefore = await sandbox.stats();
      const routesBefore = await upstreamCallsByRoute(/** @type {string} */ (bff?.url));
      const start = dashboards.map((d) => ({ chatbots: d.reads.chatbots(), usage: d.reads.usage(), responses: d.reads.responses() }));

      for (let n = 1; n <= EVENTS; n++) {
        const { data } = await sandbox.simulateResponse(bot.id);
        await Promise.all(dashboards.map(async ({ w }) => {
          await w.responses.locator(`ol.responses > li[data-id="${data.id}"][data-news="new"]`).waitFor();
          await w.chatbots.locator(`tbody tr[data-id="${bot.id}"] td.numeric`)
            .filter({ hasText: new RegExp(`^${(countBefore + n).toLocaleString("en-US")}$`) }).waitFor();
        }));
      }
      await dashboards[0].page.waitForTimeout(LATE_CALLS_MS);

      const calls = (await sandbox.stats()).apiCalls - statsBefore.apiCalls;
      const byRoute = callsBetween(routesBefore, await upstreamCallsByRoute(/** @type {string} */ (bff?.url)));
      const pageReads = dashboards.map((d, i) => ({
        chatbots: d.reads.chatbots() - start[i].chatbots,
        usage: d.reads.usage() - start[i].usage,
        responses: d.reads.responses() - start[i].responses,
      }));
      const said = `${tabs} dashboard(s), ${EVENTS} response.created events: ${calls} upstream call(s) in all `
        + `(${(calls / EVENTS).toFixed(2)} per event); by operation ${JSON.stringify(byRoute)}; `
        + `browser reads per dashboard ${JSON.stringify(pageReads)}`;
      t.diagnostic(said);
      console.log(said);

      assert.equal(byRoute.listChatbots ?? 0, 0, "the chatbot table applies the event: no upstream call");
      assert.equal(byRoute.getUsage ?? 0, 0, "usage is not about responses: no upstream call");
      assert.equal(byRoute.listResponses ?? 0, 0, "the responses views show the event itself: no upstream call");
      assert.equal(calls, 0, "no call reached the sandbox");
      for (const reads of pageReads) {
        assert.equal(reads.chatbots, 0, "no dashboard read the chatbots");
        assert.equal(reads.usage, 0, "no dashboard read usage");
        assert.equal(reads.responses, 0, "no dashboard read the responses for an event");
      }
      // A page view after the events: the BFF applied them to its cached
      // answers, so a fresh dashboard is served the new counts from the
      // cache, at no upstream cost, and they are the sandbox's truth.
      const beforeView = await sandbox.stats();
      const viewer = await openPage(/** @type {import("playwright-core").Browser} */ (browser));
      const seen = widgets(viewer.page);
      await viewer.page.goto(`${bff?.url}/`);
      await Promise.all([settled(seen.chatbots), settled(seen.usage), settled(seen.webhooks)]);
      const shown = shownNumber(await seen.chatbots.locator(`tbody tr[data-id="${bot.id}"] td.numeric`).textContent() ?? "");
      assert.equal((await sandbox.stats()).apiCalls - beforeView.apiCalls, 0, "a page view after the events costs no upstream call");
      assert.equal(shown, countBefore + EVENTS, "the cached count was patched by every event");
      const truth = (await sandbox.chatbots(1, 10)).data.find((/** @type {{id: string}} */ b) => b.id === bot.id);
      assert.equal(shown, truth.responseCount, "and it is the sandbox's own count");
      assert.deepEqual(viewer.pageErrors, []);
      await viewer.context.close();
      for (const d of dashboards) {
        assert.deepEqual(d.pageErrors, []);
        await d.context.close();
      }
    });
  }
});
