// <conferbot-responses> on the demo dashboard, against the BFF with its
// embedded sandbox: choosing a chatbot in the table (keyboard and pointer),
// paging like the table, answers of any JSON type, live arrival (a row from
// the event itself, with no upstream call, replaced by the real one when a
// read holds it) and highlight, response.updated, and the empty and error
// states; checked against the sandbox read directly.

import assert from "node:assert/strict";
import { mkdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { RESPONSE_READS, countRequests, launchChromium, openPage, settled, shownNumber, widgets } from "./support/browser.mjs";
import { sandboxApi } from "./support/sandbox-api.mjs";
import { ROOT, startBff, stopAll } from "./support/servers.mjs";

/** The page size www/index.html asks for, for both lists. */
const PAGE_SIZE = 10;

/** Answers of every JSON kind, as a form might send them (the sandbox stores them as given). */
const ANSWERS = {
  name: "Ada <b>Lovelace</b>",
  rating: 5,
  score: 4.75,
  subscribed: false,
  phone: null,
  comment: "",
  topics: ["pricing", "integrations"],
  address: { city: "London", lines: ["12 St James's Square", "Flat 3"] },
  deep: { a: { b: { c: { d: { e: 1 } } } } },
  story: `${"I have been using the notebook for years. ".repeat(12)}\nSecond paragraph, after a line break.`,
};

describe("the responses widget on the sandbox (Starter plan)", () => {
  /** @type {import("./support/servers.mjs").Server | undefined} */
  let bff;
  /** @type {import("playwright-core").Browser | undefined} */
  let browser;
  /** @type {import("playwright-core").Page} */
  let page;
  /** @type {string[]} */
  let pageErrors;
  /** @type {ReturnType<typeof sandboxApi>} */
  let sandbox;
  /** @type {ReturnType<typeof widgets>} */
  let w;
  /** A chatbot of the table's first page with at least three pages of responses. @type {{id: string, name: string}} */
  let bot;

  before(async () => {
    bff = await startBff({ args: ["--rate", "10000/1s", "--sandbox-rate", "10000/1s"] });
    const started = bff;
    sandbox = sandboxApi(started.urls[1]);
    await sandbox.waitForReceiver(() => started.output());
    const first = (await sandbox.chatbots(1, PAGE_SIZE)).data;
    bot = first.find((/** @type {{responseCount: number}} */ b) => b.responseCount > 2 * PAGE_SIZE);
    assert.ok(bot, `a chatbot on page 1 with more than ${2 * PAGE_SIZE} responses: ${JSON.stringify(first)}`);
    browser = await launchChromium();
    ({ page, pageErrors } = await openPage(browser));
    w = widgets(page);
    await page.goto(`${started.url}/`);
    await Promise.all([settled(w.chatbots), settled(w.responses)]);
    await w.chatbots.locator("tbody tr").first().waitFor();
  });

  after(async () => {
    await browser?.close();
    await stopAll(bff);
  });

  /**
   * Waits for "Page n of m" in the responses widget, then checks its items are the sandbox's page n.
   * @param {string} chatbotId
   * @param {number} n
   * @param {number} limit
   */
  async function expectResponsesPage(chatbotId, n, limit) {
    const expected = await sandbox.responses(chatbotId, n, limit);
    await w.responsesPageLabel.filter({ hasText: new RegExp(`^Page ${n} of ${Math.max(expected.totalPages, 1)}$`) }).waitFor();
    await settled(w.responses);
    assert.deepEqual(await w.responseIds(), expected.data.map((/** @type {{id: string}} */ r) => r.id));
    return expected;
  }

  /** Chooses `chatbot` in the table with the keyboard, and waits for its responses. */
  async function chooseByKeyboard(/** @type {{id: string, name: string}} */ chatbot) {
    await w.chatbots.locator(`tbody tr[data-id="${chatbot.id}"] button.choose`).focus();
    await page.keyboard.press("Enter");
    await w.responses.locator("h2").filter({ hasText: `Responses of ${chatbot.name}` }).waitFor();
    return expectResponsesPage(chatbot.id, 1, PAGE_SIZE);
  }

  test("before a chatbot is chosen, the widget says how to choose one and reads nothing", async () => {
    assert.equal(await w.responses.locator(".prompt").textContent(), "Choose a chatbot to see its responses.");
    assert.equal(await w.responses.locator("ol.responses").isVisible(), false);
    const reads = countRequests(page, RESPONSE_READS);
    await w.responsesButton("Refresh").click();
    await settled(w.responses);
    assert.equal(reads(), 0);
  });

  test("choosing a row by keyboard shows that chatbot's responses, newest first, paged like the table", async () => {
    const expected = await chooseByKeyboard(bot);
    const chosen = w.chatbots.locator(`tbody tr[data-id="${bot.id}"]`);
    assert.equal(await chosen.locator("button.choose").getAttribute("aria-current"), "true");
    assert.equal(await chosen.evaluate((el) => el.classList.contains("selected")), true);
    assert.equal(await chosen.locator("button.choose").evaluate((el) => el.matches(":focus")), true, "the focus stays in the table");
    assert.equal(shownNumber(await w.responses.locator(".total").textContent() ?? ""), expected.total);
    const created = await w.responses.locator("ol.responses h3 time").evaluateAll((times) => times.map((t) => t.getAttribute("datetime")));
    assert.deepEqual(created, expected.data.map((/** @type {{createdAt: string}} */ r) => r.createdAt));
    assert.deepEqual([...created].sort().reverse(), created, "newest first");
    const firstItem = w.responses.locator("ol.responses > li").first();
    assert.equal(await firstItem.locator("dt").first().textContent(), Object.keys(expected.data[0].answers)[0]);

    // The same pager as the table: next, last, previous, first; then the page size.
    assert.ok(await w.responsesButton("First page").isDisabled());
    await w.responsesButton("Next page").click();
    await expectResponsesPage(bot.id, 2, PAGE_SIZE);
    await w.responsesButton("Last page").click();
    const last = await expectResponsesPage(bot.id, expected.totalPages, PAGE_SIZE);
    assert.equal(last.data.length, expected.total - (expected.totalPages - 1) * PAGE_SIZE);
    assert.ok(await w.responsesButton("Next page").isDisabled());
    await w.responsesButton("Previous page").focus();
    await page.keyboard.press("Enter");
    await expectResponsesPage(bot.id, expected.totalPages - 1, PAGE_SIZE);
    await w.responsesButton("First page").click();
    await expectResponsesPage(bot.id, 1, PAGE_SIZE);
    const perPage = w.responses.getByLabel("Per page");
    assert.deepEqual(await perPage.locator("option").allTextContents(),
      await w.chatbots.getByLabel("Per page").locator("option").allTextContents(), "the same page sizes as the table");
    await perPage.selectOption("5");
    await expectResponsesPage(bot.id, 1, 5);
    await perPage.selectOption(String(PAGE_SIZE));
    await expectResponsesPage(bot.id, 1, PAGE_SIZE);

    // Space on another row's name, then a click anywhere on a row, choose too.
    const rows = await w.chatbots.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-id")));
    const other = /** @type {string} */ (rows.find((id) => id !== bot.id));
    await w.chatbots.locator(`tbody tr[data-id="${other}"] button.choose`).focus();
    await page.keyboard.press("Space");
    await expectResponsesPage(other, 1, PAGE_SIZE);
    assert.equal(await chosen.locator("button.choose").getAttribute("aria-current"), null, "only the chosen row is current");
    await chosen.locator("td.date").first().click();
    await expectResponsesPage(bot.id, 1, PAGE_SIZE);
  });

  test("a new response shows at once from its event with no upstream call, then a re-read replaces it with its answers", async (t) => {
    await expectResponsesPage(bot.id, 1, PAGE_SIZE);
    const totalBefore = shownNumber(await w.responses.locator(".total").textContent() ?? "");
    const reads = countRequests(page, RESPONSE_READS);
    const upstreamBefore = (await sandbox.stats()).byOperation?.listResponses ?? 0;
    const simulated = await sandbox.simulateAnswers(bot.id, ANSWERS);
    const id = simulated.data.id;
    assert.equal(simulated.delivery.responseId, id);

    // The event alone: a pending row at the top, marked New, its answers said to come.
    const rows = w.responses.locator(`ol.responses > li[data-id="${id}"]`);
    const pending = w.responses.locator(`ol.responses > li[data-id="${id}"][data-pending]`);
    await pending.waitFor();
    assert.equal((await w.responseIds())[0], id, "the new response is first");
    assert.equal(await pending.getAttribute("data-news"), "new");
    assert.equal(await pending.locator(".flag").textContent(), "New");
    assert.equal(await pending.locator("p.pending").textContent(), "Answers load with the next refresh.");
    assert.equal(await pending.locator("time").getAttribute("datetime"), simulated.delivery.timestamp);
    const who = await pending.locator(".meta").textContent() ?? "";
    assert.ok(who.includes(simulated.delivery.visitorId) && who.includes(simulated.delivery.chatSessionId), who);
    await w.responses.locator(".status").filter({ hasText: /^1 new response; its answers load with the next refresh\.$/ }).waitFor();
    assert.equal(shownNumber(await w.responses.locator(".total").textContent() ?? ""), totalBefore + 1);
    assert.equal(reads(), 0, "the page read nothing for the event");
    assert.equal((await sandbox.stats()).byOperation?.listResponses ?? 0, upstreamBefore, "no upstream call made it visible");

    // A re-read holds it: the real row replaces the pending one (merged by id, never twice).
    await w.responsesButton("Refresh").click();
    await rows.locator("dl.answers").waitFor();
    await settled(w.responses);
    assert.equal(await rows.count(), 1, "one row for the response");
    assert.equal(await pending.count(), 0, "no longer pending");
    assert.equal(await rows.getAttribute("data-news"), "new", "still marked New");
    assert.equal((await w.responseIds())[0], id);
    assert.equal(shownNumber(await w.responses.locator(".total").textContent() ?? ""), totalBefore + 1, "counted once");
    t.diagnostic(`the page read the responses ${reads()} time(s): the Refresh`);
    assert.equal(reads(), 1);
    const item = rows;

    // Every kind of answer, as text a person can read.
    /** @param {string} question */
    const answer = (question) => item.locator("dl.answers > dt", { hasText: new RegExp(`^${question}$`) }).locator("+ dd");
    assert.equal(await answer("name").textContent(), "Ada <b>Lovelace</b>", "markup in an answer stays text");
    assert.equal(await answer("name").locator("b").count(), 0);
    assert.equal(await answer("rating").textContent(), "5");
    assert.equal(await answer("score").textContent(), "4.75");
    assert.equal(await answer("subscribed").textContent(), "No");
    assert.equal(await answer("phone").textContent(), "(empty)");
    assert.equal(await answer("comment").textContent(), "(empty text)");
    assert.deepEqual(await answer("topics").locator("li").allTextContents(), ["pricing", "integrations"]);
    const address = answer("address").locator("dl.nested");
    assert.equal(await address.locator("> dt").first().textContent(), "city");
    assert.equal(await address.locator("> dd").first().textContent(), "London");
    assert.deepEqual(await address.locator("li").allTextContents(), ANSWERS.address.lines);
    assert.equal(await answer("deep").locator("code.json").textContent(), JSON.stringify({ e: 1 }), "deep nesting as JSON text");

    // Long text folds; Enter on its summary opens it, line break kept.
    const story = answer("story").locator("details");
    const summary = story.locator("summary");
    assert.match(await summary.textContent() ?? "", new RegExp(`show all ${ANSWERS.story.length.toLocaleString("en-US")} characters`));
    assert.equal(await story.locator("> div.text").isVisible(), false);
    await summary.focus();
    await page.keyboard.press("Enter");
    await story.locator("> div.text").waitFor({ state: "visible" });
    assert.equal(await story.locator("> div.text").textContent(), ANSWERS.story);
    assert.equal(await story.locator("> div.text").evaluate((el) => getComputedStyle(el).whiteSpace), "pre-wrap");

    const shot = path.join(ROOT, "target", "e2e", "responses.png");
    await mkdir(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok((await stat(shot)).size > 20_000, "a rendered dashboard, not a blank page");
    await w.responses.screenshot({ path: path.join(ROOT, "target", "e2e", "responses-widget.png") });
  });

  test("response.updated refreshes that response and marks it Updated", async () => {
    await page.reload();
    await settled(w.chatbots);
    await chooseByKeyboard(bot);
    const newest = (await sandbox.responses(bot.id, 1, PAGE_SIZE)).data[0];
    const item = w.responses.locator(`ol.responses > li[data-id="${newest.id}"]`);
    assert.equal(await item.getAttribute("data-news"), null);
    const reads = countRequests(page, RESPONSE_READS);
    const simulated = await sandbox.simulateResponse(bot.id, "response.updated");
    assert.equal(simulated.delivery.responseId, newest.id, "the sandbox updates the newest response");
    await item.locator(".flag").filter({ hasText: "Updated" }).waitFor();
    assert.equal(await item.getAttribute("data-news"), "updated");
    assert.equal(await item.locator("time.updated").getAttribute("datetime"), simulated.data.updatedAt);
    assert.equal(reads(), 1, "one read of the page shown (an update announces no new id to wait for)");
  });

  test("an event during a slow read shows at once and lets that read finish, never twice", async () => {
    await expectResponsesPage(bot.id, 1, PAGE_SIZE);
    const reads = countRequests(page, RESPONSE_READS);
    let aborted = 0;
    page.on("requestfailed", (request) => { if (RESPONSE_READS.test(request.url())) aborted += 1; });
    await sandbox.armFault("delay", 1, 1500);
    await w.responsesButton("Refresh").click();
    await w.responses.locator(".body[aria-busy='true']").waitFor();
    const simulated = await sandbox.simulateResponse(bot.id);
    const rows = w.responses.locator(`ol.responses > li[data-id="${simulated.data.id}"][data-news="new"]`);
    await rows.waitFor();
    await settled(w.responses);
    assert.equal(await rows.count(), 1, "one row, whether the slow read held it or not");
    assert.equal(reads(), 1, "the slow read only: the event needed none");
    assert.equal(aborted, 0, "the slow read was not restarted");
  });

  test("on a later page a new response costs no read: the count and 'Show newest' say it", async () => {
    await expectResponsesPage(bot.id, 1, PAGE_SIZE);
    await w.responsesButton("Next page").click();
    const page2 = await expectResponsesPage(bot.id, 2, PAGE_SIZE);
    const reads = countRequests(page, RESPONSE_READS);
    const simulated = await sandbox.simulateResponse(bot.id);
    const news = w.responses.locator(".news");
    await news.filter({ hasText: "1 new response since this page was shown." }).waitFor();
    assert.equal(shownNumber(await w.responses.locator(".total").textContent() ?? ""), page2.total + 1);
    assert.equal(reads(), 0, "nothing shown changed: no read");
    await news.getByRole("button", { name: "Show newest" }).click();
    await expectResponsesPage(bot.id, 1, PAGE_SIZE);
    assert.equal(await w.responses.locator(`li[data-id="${simulated.data.id}"]`).getAttribute("data-news"), "new");
    assert.equal(await news.isVisible(), false);
  });

  test("a chatbot without responses says so; a missing chatbot and a failing server are said in words, with Retry", async () => {
    /** @type {{id: string, name: string} | undefined} */
    let empty;
    let tablePage = 1;
    for (; !empty; tablePage++) {
      const listed = await sandbox.chatbots(tablePage, PAGE_SIZE);
      assert.ok(tablePage <= listed.totalPages, "the sandbox has a chatbot without responses");
      empty = listed.data.find((/** @type {{responseCount: number}} */ b) => b.responseCount === 0);
    }
    for (let n = 1; n < tablePage - 1; n++) await w.chatbotButton("Next page").click();
    await w.pageLabel.filter({ hasText: new RegExp(`^Page ${tablePage - 1} of`) }).waitFor();
    await chooseByKeyboard(empty);
    assert.equal(await w.responses.locator("li.empty").textContent(), "No responses yet.");
    assert.equal(await w.responsesPageLabel.textContent(), "Page 1 of 1");
    assert.equal(await w.responses.locator(".status").textContent(), "No responses yet.");
    for (const name of ["First page", "Previous page", "Next page", "Last page"]) {
      assert.ok(await w.responsesButton(name).isDisabled(), `${name} is disabled`);
    }

    // An id no chatbot has, as a page author might set it.
    await w.responses.evaluate((el) => el.setAttribute("chatbot-id", "ffffffffffffffffffffffff"));
    const error = w.errorOf(w.responses);
    await error.waitFor({ state: "visible" });
    assert.equal(await error.locator(".error-text").textContent(), "That item no longer exists; it may have been deleted elsewhere.");
    assert.equal(await w.responses.locator("[role=alert]").first().textContent(), await error.locator(".error-text").textContent());

    // A failing upstream: said in words; Retry recovers once it clears.
    await w.responses.evaluate((el, id) => el.setAttribute("chatbot-id", id), bot.id);
    await expectResponsesPage(bot.id, 1, PAGE_SIZE);
    await sandbox.armFault("status500", 1000);
    await w.responsesButton("Refresh").click();
    await error.waitFor({ state: "visible" });
    assert.match(await error.locator(".error-text").textContent() ?? "", /^The Conferbot service (ran into a problem|is not answering)/);
    await error.getByRole("button", { name: "Retry" }).click();
    await settled(w.responses);
    assert.ok(await error.isVisible(), "still failing");
    await sandbox.clearFaults();
    await error.getByRole("button", { name: "Retry" }).click();
    await error.waitFor({ state: "hidden" });
    await expectResponsesPage(bot.id, 1, PAGE_SIZE);
  });

  test("axe finds no WCAG 2 A/AA violations with a pending row, the responses open, long text unfolded, and an error shown", async () => {
    await page.addScriptTag({ path: createRequire(import.meta.url).resolve("axe-core/axe.min.js") });
    const audit = async () => page.evaluate(async () => {
      const axe = /** @type {{run: Function}} */ (/** @type {unknown} */ (window).axe);
      const result = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
      return result.violations.map((/** @type {{id: string, nodes: {target: unknown}[]}} */ v) =>
        `${v.id}: ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`);
    });
    const simulated = await sandbox.simulateAnswers(bot.id, ANSWERS);
    await w.responses.locator(`li[data-id="${simulated.data.id}"][data-pending]`).waitFor();
    assert.deepEqual(await audit(), []);
    await w.responsesButton("Refresh").click();
    await w.responses.locator(`li[data-id="${simulated.data.id}"] details > summary`).click();
    assert.deepEqual(await audit(), []);
    await w.responses.evaluate((el) => el.setAttribute("chatbot-id", "ffffffffffffffffffffffff"));
    await w.errorOf(w.responses).waitFor({ state: "visible" });
    assert.deepEqual(await audit(), []);
    await w.responses.evaluate((el, id) => el.setAttribute("chatbot-id", id), bot.id);
    await w.errorOf(w.responses).waitFor({ state: "hidden" });
  });

  test("the page threw no uncaught errors", () => {
    assert.deepEqual(pageErrors, []);
  });
});
