// The key-leak audit: with a canary key in the BFF, use the dashboard the way
// a person would (and poke the BFF the way a curious page could), record
// everything the browser sent and received and everything it keeps, and
// search all of it for the key. One copy anywhere fails the test.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { launchChromium, openPage, settled, widgets } from "./support/browser.mjs";
import { sandboxApi } from "./support/sandbox-api.mjs";
import { startBff, startSandbox, stopAll } from "./support/servers.mjs";

const SECRET_PART = randomBytes(12).toString("hex");
const KEY = `cbk_LEAKCANARY_${SECRET_PART}`;

/**
 * The forms the key could take on the way out: as is, URL-encoded, base64,
 * UTF-16, and its random part alone (which catches a cut or re-cased copy).
 */
const NEEDLES = [
  ["the key", Buffer.from(KEY)],
  ["the key, URL-encoded", Buffer.from(encodeURIComponent(KEY))],
  ["the key in base64", Buffer.from(Buffer.from(KEY).toString("base64"))],
  ["the key in base64url", Buffer.from(Buffer.from(KEY).toString("base64url"))],
  ["the key in UTF-16", Buffer.from(KEY, "utf16le")],
  ["its random part", Buffer.from(SECRET_PART)],
  ["its random part, upper-case", Buffer.from(SECRET_PART.toUpperCase())],
];

/**
 * Where each needle occurs among `records`.
 * @param {{where: string, bytes: Buffer}[]} records
 * @returns {string[]}
 */
function findKey(records) {
  /** @type {string[]} */
  const found = [];
  for (const { where, bytes } of records) {
    for (const [form, needle] of NEEDLES) {
      if (bytes.includes(needle)) found.push(`${form} in ${where}`);
    }
  }
  return found;
}

/**
 * Every shadow root's markup as well as the document's (`page.content()`
 * alone does not include shadow DOM, where the widgets render).
 * @param {import("playwright-core").Page} page
 */
function shadowMarkup(page) {
  return page.evaluate(() => {
    /** @type {string[]} */
    const parts = [];
    /** @param {Document | ShadowRoot} root */
    const walk = (root) => {
      for (const element of root.querySelectorAll("*")) {
        if (element.shadowRoot) {
          parts.push(element.shadowRoot.innerHTML);
          walk(element.shadowRoot);
        }
        for (const attribute of element.getAttributeNames()) parts.push(element.getAttribute(attribute) ?? "");
      }
    };
    walk(document);
    return parts.join("\n");
  });
}

describe("key-leak audit: a canary key in the BFF never reaches the browser", () => {
  /** @type {import("./support/servers.mjs").Server | undefined} */
  let sandbox;
  /** @type {import("./support/servers.mjs").Server | undefined} */
  let bff;
  /** @type {import("playwright-core").Browser | undefined} */
  let browser;

  before(async () => {
    sandbox = await startSandbox({ args: ["--key", `${KEY}=Starter`] });
    bff = await startBff({ upstream: `${sandbox.url}/api/v1`, apiKey: KEY, args: ["--rate", "10000/1s"] });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stopAll(bff, sandbox);
  });

  test("the detector finds a planted copy in every form", () => {
    for (const [form, needle] of NEEDLES) {
      const found = findKey([{ where: "a planted buffer", bytes: Buffer.concat([Buffer.from("…"), needle, Buffer.from("…")]) }]);
      assert.ok(found.some((f) => f.startsWith(form)), `${form} is found when planted`);
    }
    assert.deepEqual(findKey([{ where: "clean text", bytes: Buffer.from("cbk_LEAKCANARY_ without its secret") }]), []);
  });

  test("nothing the page sent, received, shows or stores holds the key", async (t) => {
    const { context, page, pageErrors } = await openPage(/** @type {import("playwright-core").Browser} */ (browser));
    const origin = /** @type {string} */ (bff?.url);
    const api = sandboxApi(/** @type {string} */ (sandbox?.url), KEY);

    /** @type {{where: string, bytes: Buffer}[]} */
    const records = [];
    /** @type {Promise<void>[]} */
    const pending = [];
    let requests = 0;
    let responses = 0;
    let eventStreams = 0;
    page.on("request", (request) => {
      requests += 1;
      pending.push((async () => {
        const where = `request ${request.method()} ${request.url()}`;
        records.push({ where: `${where} (URL)`, bytes: Buffer.from(request.url()) });
        records.push({ where: `${where} (headers)`, bytes: Buffer.from(JSON.stringify(await request.allHeaders())) });
        const body = request.postDataBuffer();
        if (body) records.push({ where: `${where} (body)`, bytes: body });
      })());
    });
    page.on("response", (response) => {
      responses += 1;
      pending.push((async () => {
        const where = `response ${response.status()} ${response.url()}`;
        records.push({ where: `${where} (headers)`, bytes: Buffer.from(JSON.stringify(await response.allHeaders())) });
        records.push({ where: `${where} (status text)`, bytes: Buffer.from(response.statusText()) });
        // The live-events stream never ends while the widgets listen: its bytes are read below, for a while.
        if ((await response.headerValue("content-type"))?.startsWith("text/event-stream")) {
          eventStreams += 1;
          return;
        }
        const body = await response.body().catch(() => null);
        if (body) records.push({ where: `${where} (body)`, bytes: body });
      })());
    });

    // Use the dashboard: load, page, sort, resize, add and delete a webhook, meet a fault and retry.
    await page.goto(`${origin}/`);
    const w = widgets(page);
    await Promise.all([settled(w.chatbots), settled(w.usage), settled(w.webhooks)]);
    await w.chatbots.locator("tbody tr").first().waitFor();
    assert.equal(await w.chatbots.locator("tbody tr").count(), 10, "the BFF's key works, so the audit is not of an empty page");
    await w.chatbotButton("Next page").click();
    await w.pageLabel.filter({ hasText: /^Page 2 of / }).waitFor();
    await w.chatbots.getByRole("button", { name: "Name", exact: true }).click();
    await w.chatbots.getByLabel("Per page").selectOption("50");
    await w.pageLabel.filter({ hasText: /of 3$/ }).waitFor();
    await w.webhooks.getByLabel("Webhook URL").fill("https://example.com/hooks/audit");
    await w.webhooks.getByRole("button", { name: "Add webhook" }).click();
    await w.webhooks.locator("li", { hasText: "https://example.com/hooks/audit" }).waitFor();
    await w.webhooks.getByRole("button", { name: "Delete webhook https://example.com/hooks/audit" }).click();
    await w.webhooks.locator("li", { hasText: "https://example.com/hooks/audit" }).waitFor({ state: "detached" });
    await api.armFault("status500", 1000);
    await w.usage.getByRole("button", { name: "Refresh" }).click();
    await w.errorOf(w.usage).waitFor({ state: "visible" });
    await api.clearFaults();
    await w.errorOf(w.usage).getByRole("button", { name: "Retry" }).click();
    await w.errorOf(w.usage).waitFor({ state: "hidden" });

    // What a curious page could ask the BFF: unknown routes, bad input, its errors.
    await page.evaluate(async () => {
      const probes = [
        "/api/conferbot/external/v1/chatbots?page=0",
        "/api/conferbot/external/v1/chatbots?limit=1000",
        "/api/conferbot/external/v1/not-an-endpoint",
        "/api/conferbot/external/v1/webhooks/not-an-id",
        "/api/conferbot/../../sandbox/stats",
        "/api/conferbot/external/v1/usage?apiKey=show-me",
        "/pkg/",
        "/no-such-page",
      ];
      for (const url of probes) await fetch(url).then((r) => r.arrayBuffer()).catch(() => null);
      await fetch("/api/conferbot/external/v1/webhooks", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{not json",
      }).then((r) => r.arrayBuffer()).catch(() => null);
    });

    // What the live-events stream says (the widgets keep one open), read for 1.5 s.
    const streamed = await page.evaluate(async () => {
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), 1500);
      let text = "";
      try {
        const answer = await fetch("/api/conferbot/events", { signal: stop.signal, headers: { accept: "text/event-stream" } });
        const reader = /** @type {ReadableStream<Uint8Array>} */ (answer.body).pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += value;
        }
      } catch {
        // aborted after 1.5 s: what arrived until then is in `text`
      } finally {
        clearTimeout(timer);
      }
      return text;
    });
    assert.match(streamed, /retry:|^:/m, "the events stream was read");
    records.push({ where: "the live-events stream (GET /api/conferbot/events, 1.5 s)", bytes: Buffer.from(streamed) });

    await Promise.all(pending);
    assert.ok(eventStreams >= 1, "the widgets' live-events stream was seen");
    records.push({ where: "page.content()", bytes: Buffer.from(await page.content()) });
    records.push({ where: "the widgets' shadow DOM and attributes", bytes: Buffer.from(await shadowMarkup(page)) });
    records.push({
      where: "localStorage and sessionStorage",
      bytes: Buffer.from(await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } }))),
    });
    records.push({ where: "cookies", bytes: Buffer.from(JSON.stringify(await context.cookies())) });
    records.push({ where: "document.cookie", bytes: Buffer.from(await page.evaluate(() => document.cookie)) });
    records.push({ where: "storage state", bytes: Buffer.from(JSON.stringify(await context.storageState())) });

    const wasm = records.filter((r) => r.where.includes(".wasm") && r.where.endsWith("(body)"));
    assert.ok(wasm.length >= 1, "the wasm module's bytes were recorded");
    assert.ok(records.some((r) => r.where.startsWith("response 200") && r.where.includes("/pkg/")), "the package's JS was recorded");

    const summary = `recorded ${requests} requests and ${responses} responses (${records.length} items searched)`;
    t.diagnostic(summary);
    console.log(`key-leak audit: ${summary}`);
    assert.deepEqual(findKey(records), [], "the key reached the browser");
    assert.deepEqual(pageErrors, []);
    await context.close();
  });

  test("the BFF's own output never shows the key", () => {
    const printed = bff?.output() ?? "";
    assert.ok(printed.includes("listening on"), "the BFF's output was captured");
    assert.deepEqual(findKey([{ where: "the BFF's stdout and stderr", bytes: Buffer.from(printed) }]), []);
  });
});
