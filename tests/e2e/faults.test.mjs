// Faults as a person meets them: the upstream stopped, the BFF stopped, a
// rate limit, a bad key. Each is said in words, and the widget recovers once
// the fault clears. The BFF forwards to a separately started sandbox here,
// so the sandbox can be stopped and restarted on the same port.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { launchChromium, openPage, settled, widgets } from "./support/browser.mjs";
import { sandboxApi } from "./support/sandbox-api.mjs";
import { startBff, startSandbox, stopAll } from "./support/servers.mjs";

/** The BFF's own traffic shaping is not under test here. */
const BFF_ARGS = ["--rate", "10000/1s"];
/** A status code written out, which the words must not fall back to. */
const STATUS_CODE = /\b[45]\d\d\b/;

describe("faults, with the BFF forwarding to a standalone sandbox", () => {
  /** @type {import("./support/servers.mjs").Server[]} every server started, stopped after */
  const servers = [];
  /** @type {import("playwright-core").Browser | undefined} */
  let browser;
  /** @type {string[]} */
  const pageErrors = [];

  /** @param {Promise<import("./support/servers.mjs").Server>} starting */
  async function track(starting) {
    const server = await starting;
    servers.push(server);
    return server;
  }

  /**
   * A page on `bff`, loaded and settled.
   * @param {import("./support/servers.mjs").Server} bff
   */
  async function dashboardOn(bff) {
    const opened = await openPage(/** @type {import("playwright-core").Browser} */ (browser));
    opened.page.on("pageerror", (error) => pageErrors.push(error.message));
    await opened.page.goto(`${bff.url}/`);
    const w = widgets(opened.page);
    await Promise.all([settled(w.chatbots), settled(w.usage), settled(w.webhooks)]);
    return { page: opened.page, w };
  }

  before(async () => {
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stopAll(...servers);
  });

  test("the upstream stopped: said in words, and Retry recovers once it is back", async (t) => {
    let sandbox = await track(startSandbox());
    const upstream = `${sandbox.url}/api/v1`;
    const bff = await track(startBff({ upstream, args: BFF_ARGS }));
    const { w } = await dashboardOn(bff);
    await w.chatbots.locator("tbody tr").first().waitFor();

    await sandbox.stop();
    await w.chatbots.getByRole("button", { name: "Refresh" }).click();
    const error = w.errorOf(w.chatbots);
    await error.waitFor({ state: "visible" });
    const words = await error.locator(".error-text").textContent() ?? "";
    t.diagnostic(`shown: ${words}`);
    assert.match(words, /The Conferbot service is not answering right now|Cannot reach the server/);
    assert.doesNotMatch(words, STATUS_CODE);

    sandbox = await track(startSandbox({ port: sandbox.port }));
    await error.getByRole("button", { name: "Retry" }).click();
    await error.waitFor({ state: "hidden" });
    assert.equal(await w.chatbots.locator("tbody tr").count(), 10);
  });

  test("the BFF stopped: 'cannot reach the server', and Retry recovers once it is back", async (t) => {
    const sandbox = await track(startSandbox());
    const upstream = `${sandbox.url}/api/v1`;
    let bff = await track(startBff({ upstream, args: BFF_ARGS }));
    const { w } = await dashboardOn(bff);

    await bff.stop();
    await w.usage.getByRole("button", { name: "Refresh" }).click();
    const error = w.errorOf(w.usage);
    await error.waitFor({ state: "visible" });
    const words = await error.locator(".error-text").textContent() ?? "";
    t.diagnostic(`shown: ${words}`);
    assert.match(words, /^Cannot reach the server\./);

    bff = await track(startBff({ upstream, port: bff.port, args: BFF_ARGS }));
    await error.getByRole("button", { name: "Retry" }).click();
    await error.waitFor({ state: "hidden" });
    await w.usage.locator('[data-field="plan"]').filter({ hasText: "Starter" }).waitFor();
  });

  test("a 500 from the upstream: said in words, and Retry recovers once it clears", async (t) => {
    const sandbox = await track(startSandbox());
    const api = sandboxApi(sandbox.url);
    const bff = await track(startBff({ upstream: `${sandbox.url}/api/v1`, args: BFF_ARGS }));
    const { w } = await dashboardOn(bff);

    await api.armFault("status500", 1000);
    await w.webhooks.getByRole("button", { name: "Refresh" }).click();
    const error = w.errorOf(w.webhooks);
    await error.waitFor({ state: "visible" });
    const words = await error.locator(".error-text").textContent() ?? "";
    t.diagnostic(`shown: ${words}`);
    assert.match(words, /The Conferbot service (ran into a problem|is not answering)/);
    assert.doesNotMatch(words, STATUS_CODE);

    await api.clearFaults();
    await error.getByRole("button", { name: "Retry" }).click();
    await error.waitFor({ state: "hidden" });
    await w.webhooks.locator('[data-field="limit"]').filter({ hasText: "of 5 webhooks in use" }).waitFor();
  });

  test("rate limited: 'retrying in N s', and it retries by itself", async (t) => {
    // A small window, so the wait the sandbox asks for is short; and a BFF
    // that does not queue, so the upstream's 429 reaches the page instead of
    // being waited out on the server.
    const sandbox = await track(startSandbox({ args: ["--rate", "6/3s"] }));
    const api = sandboxApi(sandbox.url);
    const bff = await track(startBff({ upstream: `${sandbox.url}/api/v1`, args: [...BFF_ARGS, "--queue-wait", "0s"] }));
    const { w } = await dashboardOn(bff);

    await api.exhaustRateLimit();
    await w.chatbots.getByRole("button", { name: "Refresh" }).click();
    const error = w.errorOf(w.chatbots);
    await error.waitFor({ state: "visible" });
    const words = await error.locator(".error-text").textContent() ?? "";
    t.diagnostic(`shown: ${words}`);
    const seconds = Number(/^Too many requests for now; retrying in (\d+) s\.$/.exec(words)?.[1]);
    assert.ok(seconds >= 1, `a countdown in whole seconds: ${words}`);
    assert.ok(await error.getByRole("button", { name: "Retry now" }).isVisible());
    if (seconds >= 2) {
      await error.locator(".error-text").filter({ hasText: `retrying in ${seconds - 1} s` }).waitFor();
    }

    // Nobody clicks: the widget waits as asked, then loads.
    await error.waitFor({ state: "hidden", timeout: 30_000 });
    await settled(w.chatbots);
    assert.equal(await w.chatbots.locator("tbody tr").count(), 10);
  });

  test("a bad key on the server: 'the server's API key is missing or invalid', and Retry recovers once it is fixed", async () => {
    const sandbox = await track(startSandbox());
    const upstream = `${sandbox.url}/api/v1`;
    let bff = await track(startBff({ upstream, apiKey: "not-a-valid-key", args: BFF_ARGS }));
    const { w } = await dashboardOn(bff);

    for (const widget of [w.chatbots, w.usage, w.webhooks]) {
      const words = await w.errorOf(widget).locator(".error-text").textContent() ?? "";
      assert.match(words, /the server's API key is missing or invalid/);
      assert.doesNotMatch(words, STATUS_CODE);
    }

    await bff.stop();
    bff = await track(startBff({ upstream, port: bff.port, args: BFF_ARGS }));
    await w.errorOf(w.chatbots).getByRole("button", { name: "Retry" }).click();
    await w.errorOf(w.chatbots).waitFor({ state: "hidden" });
    assert.equal(await w.chatbots.locator("tbody tr").count(), 10);
  });

  test("the pages threw no uncaught errors", () => {
    assert.deepEqual(pageErrors, []);
  });
});
