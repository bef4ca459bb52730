// Browser start-up: for each sample, a fresh browser context (empty cache)
// navigates to startup.html served by the BFF, and we read the time from
// navigation start to the first rendered row, alternating the two clients.
//
// config: { chromium, origin, wasmEntryUrl, samples }

import { chromium as playwright } from "playwright-core";
import { config, report } from "./load-client.mjs";

const { chromium, origin, wasmEntryUrl, samples } = config();
const browser = await playwright.launch({
  executablePath: chromium,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function sample(client) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const query = client === "wasm" ? `client=wasm&entry=${encodeURIComponent(wasmEntryUrl)}` : "client=plain";
    await page.goto(`${origin}/startup.html?${query}`);
    await page.waitForFunction(() => window.__firstRow !== undefined || window.__error !== undefined, null, { timeout: 30000 });
    const { firstRow, error } = await page.evaluate(() => ({ firstRow: window.__firstRow, error: window.__error }));
    if (error) throw new Error(`${client}: ${error}`);
    return firstRow;
  } finally {
    await context.close();
  }
}

const result = { wasm: [], plain: [] };
try {
  // One unmeasured sample each, so the browser's own start is not counted.
  await sample("wasm");
  await sample("plain");
  for (let i = 0; i < samples; i++) {
    const order = i % 2 === 0 ? ["wasm", "plain"] : ["plain", "wasm"];
    for (const client of order) result[client].push(await sample(client));
  }
} finally {
  await browser.close();
}
report(result);
