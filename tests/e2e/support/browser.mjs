// Debian's Chromium driven by playwright-core, and what a person sees of the
// widgets. Playwright's CSS and role locators reach into open shadow roots,
// so `conferbot-chatbots tbody tr` finds the rows inside the widget.

import { chromium } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`); never a downloaded browser. */
export const CHROMIUM = process.env.CONFERBOT_CHROMIUM ?? "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Starts Chromium. */
export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** What each page's console said at level error, to explain a widget that never loaded. */
const consoleErrors = new WeakMap();

/**
 * A page sized like a laptop screen that keeps the page's uncaught errors
 * (for a test to fail on) and console errors (to explain a failure).
 * @param {import("playwright-core").Browser} browser
 */
export async function openPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: "en-US" });
  const page = await context.newPage();
  /** @type {string[]} */
  const pageErrors = [];
  /** @type {string[]} */
  const consoleLines = [];
  consoleErrors.set(page, consoleLines);
  page.on("pageerror", (error) => pageErrors.push(`uncaught: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") consoleLines.push(message.text());
  });
  page.setDefaultTimeout(20_000);
  return { context, page, pageErrors, consoleLines };
}

/**
 * The four widgets of the dashboard, as locators.
 * @param {import("playwright-core").Page} page
 */
export function widgets(page) {
  const chatbots = page.locator("conferbot-chatbots");
  const responses = page.locator("conferbot-responses");
  const usage = page.locator("conferbot-usage");
  const webhooks = page.locator("conferbot-webhooks");
  return {
    chatbots,
    responses,
    usage,
    webhooks,
    /** The ids of the responses listed, top to bottom. */
    responseIds: () => responses.locator("ol.responses > li[data-id]").evaluateAll((items) => items.map((li) => li.getAttribute("data-id"))),
    /** The responses widget's "page n of m" label. */
    responsesPageLabel: responses.locator(".page-label"),
    /** @param {string} name a button of the responses widget, by accessible name */
    responsesButton: (name) => responses.getByRole("button", { name, exact: true }),
    /** The names in the chatbot table, top to bottom. */
    chatbotNames: () => chatbots.locator("tbody th.name").allTextContents(),
    /** The "page n of m" label. */
    pageLabel: chatbots.locator(".page-label"),
    /** @param {string} name the button's accessible name */
    chatbotButton: (name) => chatbots.getByRole("button", { name, exact: true }),
    /** The error panel of a widget. */
    errorOf: (/** @type {import("playwright-core").Locator} */ widget) => widget.locator(".error"),
  };
}

/**
 * Waits until a widget has finished loading (its body is no longer busy).
 * @param {import("playwright-core").Locator} widget
 */
export async function settled(widget) {
  try {
    await widget.locator(".body[aria-busy='false']").waitFor({ state: "attached" });
  } catch (error) {
    const said = consoleErrors.get(widget.page()) ?? [];
    throw new Error(`${widget} did not finish loading; the page's console errors: ${JSON.stringify(said)}`, { cause: error });
  }
}

/**
 * A number shown with thousands separators (`"10,000"`) as a number.
 * @param {string} text
 */
export function shownNumber(text) {
  const digits = text.replace(/[^\d]/g, "");
  if (digits === "") throw new Error(`no number in ${JSON.stringify(text)}`);
  return Number(digits);
}

/**
 * Counts the page's requests (browser to BFF) whose URL matches `pattern`, from now on.
 * @param {import("playwright-core").Page} page
 * @param {RegExp} pattern
 * @returns {() => number} how many so far
 */
export function countRequests(page, pattern) {
  let count = 0;
  page.on("request", (request) => {
    if (pattern.test(request.url())) count += 1;
  });
  return () => count;
}

/** Requests for chatbot lists (the table's reads). */
export const CHATBOT_LIST_READS = /\/external\/v1\/chatbots\?/;
/** Requests for a chatbot's responses. */
export const RESPONSE_READS = /\/external\/v1\/chatbots\/[0-9a-f]{24}\/responses/;
/** Requests for usage. */
export const USAGE_READS = /\/external\/v1\/usage/;
