// The dashboard in Chromium on the BFF with its embedded sandbox: what a
// person sees and clicks, checked against the sandbox read directly.

import assert from "node:assert/strict";
import { mkdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { launchChromium, openPage, settled, shownNumber, widgets } from "./support/browser.mjs";
import { sandboxApi } from "./support/sandbox-api.mjs";
import { ROOT, startBff, startSandbox, stopAll } from "./support/servers.mjs";

/** The page size www/index.html asks for. */
const PAGE_SIZE = 10;
/** What a careful deployment would send with the page: scripts and styles from the origin only, wasm allowed. */
const STRICT_CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; "
  + "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** Generous limits, so this file's many calls never meet a rate limit it did not ask for. */
const NO_RATE_LIMITS = ["--rate", "10000/1s", "--sandbox-rate", "10000/1s"];

describe("the dashboard on the sandbox (Starter plan)", () => {
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

  before(async () => {
    bff = await startBff({ args: NO_RATE_LIMITS });
    sandbox = sandboxApi(bff.urls[1]);
    await sandbox.reset();
    browser = await launchChromium();
    ({ page, pageErrors } = await openPage(browser));
    w = widgets(page);
    await page.goto(`${bff.url}/`);
  });

  after(async () => {
    await browser?.close();
    await stopAll(bff);
  });

  /**
   * Waits for "Page n of m", then checks the rows are the sandbox's page n.
   * @param {number} n
   * @param {number} limit
   */
  async function expectShownPage(n, limit) {
    const expected = await sandbox.chatbots(n, limit);
    await w.pageLabel.filter({ hasText: new RegExp(`^Page ${n} of ${expected.totalPages}$`) }).waitFor();
    await settled(w.chatbots);
    assert.deepEqual(await w.chatbotNames(), expected.data.map((/** @type {{name: string}} */ b) => b.name));
    return expected;
  }

  test("the first page of chatbots is the sandbox's first page", async () => {
    const expected = await expectShownPage(1, PAGE_SIZE);
    assert.equal(expected.data.length, PAGE_SIZE);
    const total = await w.chatbots.locator(".total").textContent();
    assert.equal(shownNumber(total ?? ""), expected.total);
    const firstRow = w.chatbots.locator("tbody tr").first();
    assert.equal(shownNumber(await firstRow.locator("td.numeric").textContent() ?? ""), expected.data[0].responseCount);
    assert.equal(await firstRow.locator(".badge").textContent(), expected.data[0].status);
    assert.equal(await w.chatbots.locator("tbody time").first().getAttribute("datetime"), expected.data[0].createdAt);
  });

  test("first, previous, next and last change the rows and the page label", async () => {
    const { totalPages, total } = await expectShownPage(1, PAGE_SIZE);
    assert.ok(totalPages >= 3, `the sandbox should have at least 3 pages of ${PAGE_SIZE}, has ${totalPages}`);
    assert.ok(await w.chatbotButton("First page").isDisabled());
    assert.ok(await w.chatbotButton("Previous page").isDisabled());

    await w.chatbotButton("Next page").click();
    await expectShownPage(2, PAGE_SIZE);

    await w.chatbotButton("Last page").click();
    const last = await expectShownPage(totalPages, PAGE_SIZE);
    assert.equal(last.data.length, total - (totalPages - 1) * PAGE_SIZE);
    assert.ok(await w.chatbotButton("Next page").isDisabled());
    assert.ok(await w.chatbotButton("Last page").isDisabled());

    await w.chatbotButton("Previous page").click();
    await expectShownPage(totalPages - 1, PAGE_SIZE);

    await w.chatbotButton("First page").click();
    await expectShownPage(1, PAGE_SIZE);

    // The keyboard alone: Tab reaches the buttons, Enter presses them.
    await w.chatbotButton("Next page").focus();
    await page.keyboard.press("Enter");
    await expectShownPage(2, PAGE_SIZE);
    await w.chatbotButton("First page").focus();
    await page.keyboard.press("Enter");
    await expectShownPage(1, PAGE_SIZE);
  });

  test("the page size changes the row count and keeps the first row shown in view", async () => {
    const perPage = w.chatbots.getByLabel("Per page");
    await perPage.selectOption("50");
    await expectShownPage(1, 50);
    assert.equal(await w.chatbots.locator("tbody tr").count(), 50);

    await perPage.selectOption("5");
    await expectShownPage(1, 5);
    assert.equal(await w.chatbots.locator("tbody tr").count(), 5);

    // Rows 21..30 at 10 a page are page 3; at 5 a page, row 21 is on page 5.
    await perPage.selectOption(String(PAGE_SIZE));
    await expectShownPage(1, PAGE_SIZE);
    await w.chatbotButton("Next page").click();
    await expectShownPage(2, PAGE_SIZE);
    await w.chatbotButton("Next page").click();
    await expectShownPage(3, PAGE_SIZE);
    await perPage.selectOption("5");
    await expectShownPage(5, 5);

    await perPage.selectOption(String(PAGE_SIZE));
    await expectShownPage(3, PAGE_SIZE);
    await w.chatbotButton("First page").click();
    await expectShownPage(1, PAGE_SIZE);
  });

  test("clicking a column header sorts the shown page and says so with aria-sort", async () => {
    await expectShownPage(1, PAGE_SIZE);
    const unsorted = await w.chatbotNames();
    const header = (/** @type {string} */ key) => w.chatbots.locator(`th[data-key="${key}"]`);
    const responses = async () => (await w.chatbots.locator("tbody td.numeric").allTextContents()).map(shownNumber);

    await w.chatbots.getByRole("button", { name: "Responses", exact: true }).click();
    assert.equal(await header("responseCount").getAttribute("aria-sort"), "ascending");
    const up = await responses();
    assert.deepEqual(up, [...up].sort((a, b) => a - b));
    assert.deepEqual([...await w.chatbotNames()].sort(), [...unsorted].sort(), "sorting keeps the same rows");

    await w.chatbots.getByRole("button", { name: "Responses", exact: true }).click();
    assert.equal(await header("responseCount").getAttribute("aria-sort"), "descending");
    const down = await responses();
    assert.deepEqual(down, [...down].sort((a, b) => b - a));
    assert.notDeepEqual(up, down, "ascending and descending differ on a page of different counts");

    // By keyboard, on the name column: the other columns lose their sort.
    await w.chatbots.getByRole("button", { name: "Name", exact: true }).focus();
    await page.keyboard.press("Enter");
    assert.equal(await header("name").getAttribute("aria-sort"), "ascending");
    assert.equal(await header("responseCount").getAttribute("aria-sort"), "none");
    const byName = await w.chatbotNames();
    const collated = await page.evaluate((names) =>
      [...names].sort(new Intl.Collator("en", { numeric: true, sensitivity: "base" }).compare), byName);
    assert.deepEqual(byName, collated);

    // The sort stays on as the pages change.
    await page.keyboard.press("Enter");
    assert.equal(await header("name").getAttribute("aria-sort"), "descending");
    await w.chatbotButton("Next page").click();
    const expected = await sandbox.chatbots(2, PAGE_SIZE);
    await w.pageLabel.filter({ hasText: /^Page 2 of / }).waitFor();
    await settled(w.chatbots);
    const page2 = await w.chatbotNames();
    assert.deepEqual([...page2].sort(), expected.data.map((/** @type {{name: string}} */ b) => b.name).sort());
    const collatedDown = await page.evaluate((names) =>
      [...names].sort(new Intl.Collator("en", { numeric: true, sensitivity: "base" }).compare).reverse(), page2);
    assert.deepEqual(page2, collatedDown);
    await w.chatbotButton("First page").click();
  });

  test("the usage meter shows the sandbox's numbers and changes colour as the quota runs out", async () => {
    const levels = /** @type {Record<string, string>} */ ({});
    for (const [used, level] of /** @type {const} */ ([[9500, "critical"], [8000, "warning"], [100, "ok"]])) {
      await sandbox.setUsed(used);
      await w.usage.getByRole("button", { name: "Refresh" }).click();
      const meter = w.usage.locator(`.meter[data-level="${level}"]`);
      await meter.waitFor();
      await settled(w.usage);
      const direct = await sandbox.usage();
      const shown = {
        plan: await w.usage.locator('[data-field="plan"]').textContent(),
        used: shownNumber(await w.usage.locator('dd[data-field="used"]').textContent() ?? ""),
        limit: shownNumber(await w.usage.locator('dd[data-field="limit"]').textContent() ?? ""),
        remaining: shownNumber(await w.usage.locator('dd[data-field="remaining"]').textContent() ?? ""),
      };
      assert.equal(shown.plan, direct.plan);
      assert.equal(shown.limit, direct.limit);
      // Reading usage may itself count as a call: what was shown lies between what was set and what is now.
      assert.ok(shown.used >= used && shown.used <= direct.used, `shown ${shown.used}, set ${used}, now ${direct.used}`);
      assert.equal(shown.remaining, shown.limit - shown.used);
      assert.equal(Number(await meter.getAttribute("aria-valuenow")), shown.used);
      assert.equal(Number(await meter.getAttribute("aria-valuemax")), direct.limit);
      levels[level] = await meter.locator(".fill").evaluate((el) => getComputedStyle(el).backgroundColor);
    }
    assert.equal(new Set(Object.values(levels)).size, 3, `three levels, three colours: ${JSON.stringify(levels)}`);
  });

  test("webhooks: adding shows them, the sixth is refused in words, deleting removes one", async () => {
    await sandbox.reset();
    await page.reload();
    await settled(w.webhooks);
    const start = await sandbox.webhooks();
    const limitLine = w.webhooks.locator('[data-field="limit"]');
    assert.equal(await limitLine.textContent(), `${start.length} of 5 webhooks in use (Starter plan).`);

    const url = w.webhooks.getByLabel("Webhook URL");
    const add = w.webhooks.getByRole("button", { name: "Add webhook" });
    for (let i = start.length + 1; i <= 5; i++) {
      await url.fill(`https://example.com/hooks/e2e-${i}`);
      if (i === 1) await w.webhooks.getByRole("checkbox", { name: "conversation.completed" }).check();
      await add.click();
      await w.webhooks.locator("li", { hasText: `https://example.com/hooks/e2e-${i}` }).waitFor();
    }
    await limitLine.filter({ hasText: "5 of 5 webhooks in use (Starter plan)." }).waitFor();
    const registered = await sandbox.webhooks();
    assert.equal(registered.length, 5);
    if (start.length === 0) {
      const first = registered.find((/** @type {{url: string}} */ hook) => hook.url === "https://example.com/hooks/e2e-1");
      assert.deepEqual([...first.events].sort(), ["conversation.completed", "response.created"]);
    }
    assert.match(await w.webhooks.locator(".secret").textContent() ?? "", /signing secret/);

    await url.fill("https://example.com/hooks/e2e-6");
    await add.click();
    const refusal = w.webhooks.locator(".refused");
    await refusal.filter({ hasText: /\S/ }).waitFor();
    const words = await refusal.textContent() ?? "";
    assert.match(words, /The Starter plan allows 5 webhooks, and all 5 are in use\. Delete one/);
    assert.doesNotMatch(words, /\b403\b|forbidden/i);
    assert.equal((await sandbox.webhooks()).length, 5);
    assert.equal(await w.webhooks.locator("li", { hasText: "e2e-6" }).count(), 0);

    const victim = registered[registered.length - 1];
    await w.webhooks.getByRole("button", { name: `Delete webhook ${victim.url}` }).click();
    await w.webhooks.locator(`li[data-id="${victim.id}"]`).waitFor({ state: "detached" });
    await limitLine.filter({ hasText: "4 of 5 webhooks in use" }).waitFor();
    const remaining = await sandbox.webhooks();
    assert.equal(remaining.length, 4);
    assert.ok(!remaining.some((/** @type {{id: string}} */ hook) => hook.id === victim.id));

    // What the client refuses before sending is said in its own words.
    await url.fill("example.com/no-scheme");
    await add.click();
    await refusal.filter({ hasText: /must start with https:\/\/ or http:\/\// }).waitFor();
    assert.equal((await sandbox.webhooks()).length, 4);
  });

  test("a slow answer shows loading, and the rest of the page stays usable meanwhile", async () => {
    await sandbox.armFault("delay", 1, 3000);
    await w.chatbots.getByRole("button", { name: "Refresh" }).click();
    await w.chatbots.locator(".body[aria-busy='true']").waitFor();
    assert.match(await w.chatbots.locator(".status").textContent() ?? "", /Loading page 1/);
    // Typing elsewhere works while the table waits.
    await w.webhooks.getByLabel("Webhook URL").fill("https://example.com/typed-while-loading");
    assert.equal(await w.webhooks.getByLabel("Webhook URL").inputValue(), "https://example.com/typed-while-loading");
    await settled(w.chatbots);
    await expectShownPage(1, PAGE_SIZE);
    await w.webhooks.getByLabel("Webhook URL").fill("");
  });

  for (const kind of /** @type {const} */ (["status500", "nonJson"])) {
    test(`an upstream ${kind} answer is said in words, and Retry recovers once it clears`, async () => {
      await sandbox.armFault(kind, 1000);
      await w.chatbots.getByRole("button", { name: "Refresh" }).click();
      const error = w.errorOf(w.chatbots);
      await error.waitFor({ state: "visible" });
      const words = await error.locator(".error-text").textContent() ?? "";
      assert.match(words, /The Conferbot service (ran into a problem|is not answering)|could not be understood/);
      assert.doesNotMatch(words, /\b[45]\d\d\b/, "no status codes in the words");
      assert.equal(await w.chatbots.locator("[role=alert]").first().textContent(), words);

      // Still failing: Retry shows the error again.
      await error.getByRole("button", { name: "Retry" }).click();
      await settled(w.chatbots);
      assert.ok(await error.isVisible());

      await sandbox.clearFaults();
      await error.getByRole("button", { name: "Retry" }).click();
      await error.waitFor({ state: "hidden" });
      await expectShownPage(1, PAGE_SIZE);
    });
  }

  test("a screenshot of the dashboard is saved to target/e2e/dashboard.png", async () => {
    await sandbox.reset();
    await sandbox.createWebhook("https://example.com/hooks/new-responses", ["response.created", "response.updated"]);
    await sandbox.createWebhook("https://crm.example.org/conferbot/conversations", ["conversation.completed"]);
    await sandbox.setUsed(6180);
    await page.reload();
    await Promise.all([settled(w.chatbots), settled(w.usage), settled(w.webhooks)]);
    await w.chatbots.locator("tbody tr").first().waitFor();
    await w.webhooks.locator("li").nth(1).waitFor();
    await w.chatbots.locator(".live").filter({ hasText: "Live updates on" }).waitFor();
    await w.responses.locator(".live").filter({ hasText: "Live updates on" }).waitFor();
    const file = path.join(ROOT, "target", "e2e", "dashboard.png");
    await mkdir(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file, fullPage: true });
    assert.ok((await stat(file)).size > 20_000, "a rendered dashboard, not a blank page");
  });

  test("axe finds no WCAG 2 A/AA accessibility violations, also with an error and a refusal shown", async () => {
    await page.reload();
    await Promise.all([settled(w.chatbots), settled(w.usage), settled(w.webhooks)]);
    await page.addScriptTag({ path: createRequire(import.meta.url).resolve("axe-core/axe.min.js") });
    const audit = async () => page.evaluate(async () => {
      const axe = /** @type {{run: Function}} */ (/** @type {unknown} */ (window).axe);
      const result = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
      return result.violations.map((/** @type {{id: string, nodes: {target: unknown}[]}} */ v) =>
        `${v.id}: ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`);
    });
    assert.deepEqual(await audit(), []);

    await sandbox.armFault("status500", 1000);
    await w.chatbots.getByRole("button", { name: "Refresh" }).click();
    await w.errorOf(w.chatbots).waitFor({ state: "visible" });
    await w.webhooks.getByLabel("Webhook URL").fill("example.com/no-scheme");
    await w.webhooks.getByRole("button", { name: "Add webhook" }).click();
    await w.webhooks.locator(".refused").filter({ hasText: /\S/ }).waitFor();
    assert.deepEqual(await audit(), []);
    await sandbox.clearFaults();
    await w.errorOf(w.chatbots).getByRole("button", { name: "Retry" }).click();
    await w.errorOf(w.chatbots).waitFor({ state: "hidden" });
    await w.webhooks.getByLabel("Webhook URL").fill("");
  });

  test("the dashboard runs under a strict Content-Security-Policy (no inline script or style)", async () => {
    const opened = await openPage(/** @type {import("playwright-core").Browser} */ (browser));
    const origin = /** @type {string} */ (bff?.url);
    await opened.page.route(`${origin}/`, async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), "content-security-policy": STRICT_CSP } });
    });
    await opened.page.goto(`${origin}/`);
    const strict = widgets(opened.page);
    await Promise.all([settled(strict.chatbots), settled(strict.usage), settled(strict.webhooks)]);
    assert.equal(await strict.chatbots.locator("tbody tr").count(), PAGE_SIZE);
    await strict.usage.locator(".meter .fill").waitFor();
    assert.notEqual(await strict.usage.locator(".meter .fill").evaluate((el) => getComputedStyle(el).backgroundColor), "rgba(0, 0, 0, 0)",
      "the widgets' styles apply");
    assert.deepEqual(opened.consoleLines.filter((line) => /Content Security Policy/i.test(line)), []);
    await opened.context.close();
  });

  test("when the package cannot load, the page says so in words", async () => {
    const opened = await openPage(/** @type {import("playwright-core").Browser} */ (browser));
    const origin = /** @type {string} */ (bff?.url);
    await opened.page.route(`${origin}/pkg/**`, (route) => route.fulfill({ status: 404, body: "not found" }));
    await opened.page.goto(`${origin}/`);
    const banner = opened.page.getByRole("alert").filter({ hasText: "could not load its scripts" });
    await banner.waitFor();
    assert.match(await banner.textContent() ?? "", /Reload the page/);
    assert.deepEqual(opened.pageErrors, []);
    await opened.context.close();
  });

  test("the page threw no uncaught errors", () => {
    assert.deepEqual(pageErrors, []);
  });
});

describe("the dashboard on an Enterprise workspace without chatbots", () => {
  /** @type {import("./support/servers.mjs").Server | undefined} */
  let sandbox;
  /** @type {import("./support/servers.mjs").Server | undefined} */
  let bff;
  /** @type {import("playwright-core").Browser | undefined} */
  let browser;

  before(async () => {
    sandbox = await startSandbox({ args: ["--key", "e2e-enterprise-key=Enterprise", "--chatbots", "0"] });
    bff = await startBff({ upstream: `${sandbox.url}/api/v1`, apiKey: "e2e-enterprise-key" });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stopAll(bff, sandbox);
  });

  test("usage shows as unlimited with its forecast, the webhook limit is the Enterprise one, the table is empty", async () => {
    const { page } = await openPage(/** @type {import("playwright-core").Browser} */ (browser));
    const w = widgets(page);
    // The browser's clock at day 20, 12:00 UTC of the sandbox's month: a known part of the month elapsed.
    const { month } = await sandboxApi(/** @type {string} */ (sandbox?.url), "e2e-enterprise-key").usage();
    const [year, index] = month.split("-").map(Number);
    const start = Date.UTC(year, index - 1, 1);
    const monthMs = Date.UTC(year, index, 1) - start;
    const at = start + 19.5 * 24 * 60 * 60 * 1000;
    await page.clock.setFixedTime(at);
    await page.route("**/api/conferbot/events", (route) =>
      route.fulfill({ status: 404, contentType: "application/json", body: '{"error":"Not found"}' }));
    await page.goto(`${bff?.url}/`);
    const meter = w.usage.locator('.meter[data-level="unlimited"]');
    await meter.waitFor();
    assert.equal(await w.usage.locator('[data-field="plan"]').textContent(), "Enterprise");
    assert.equal(await w.usage.locator('dd[data-field="limit"]').textContent(), "Unlimited");
    assert.equal(await w.usage.locator('dd[data-field="remaining"]').textContent(), "Unlimited");
    assert.match(await meter.getAttribute("aria-label") ?? "", /no monthly limit/);
    const used = shownNumber(await w.usage.locator('dd[data-field="used"]').textContent() ?? "");
    const projected = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 2 })
      .format(Math.round((used / (at - start)) * monthMs));
    assert.equal(await w.usage.locator('[data-field="forecast"]').textContent(),
      `At this pace the month ends at ~${projected} calls (no monthly limit).`);
    await w.webhooks.locator('[data-field="limit"]').filter({ hasText: /of 999 webhooks in use \(Enterprise plan\)/ }).waitFor();

    // A server without the events route (404, as a BFF without them answers): the widgets say so and work as before.
    for (const widget of [w.chatbots, w.responses]) {
      await widget.locator('.live[data-state="off"]').filter({ hasText: "Live updates off" }).waitFor();
    }
    // Usage and webhooks do not follow events, so the missing route says nothing there; usage may be live
    // by the quota headers of the page's other answers instead (quota-feed.js), whenever one of them
    // carried the month, which depends on whether the BFF had learned it from getUsage by then.
    assert.equal(await w.webhooks.locator(".live").isVisible(), false, "webhooks do not follow events");
    const usageLive = w.usage.locator(".live");
    if (await usageLive.isVisible()) {
      assert.equal(await usageLive.textContent(), "Live: follows every answer of the server",
        "usage does not follow events, only the quota headers");
    }

    // No chatbots: the table says so, and there is nowhere to page to.
    await settled(w.chatbots);
    assert.equal(await w.chatbots.locator("tbody td.empty").textContent(), "No chatbots yet.");
    assert.equal(await w.pageLabel.textContent(), "Page 1 of 1");
    for (const name of ["First page", "Previous page", "Next page", "Last page"]) {
      assert.ok(await w.chatbotButton(name).isDisabled(), `${name} is disabled`);
    }
  });
});
