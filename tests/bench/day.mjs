// "Quota over a day", one configuration: a busy workspace (the sandbox: a
// response.created every second on chatbots of the first page, some
// response.updated and conversation events), ten dashboards open in headless
// Chromium (the real widgets of www/, three of them showing one chatbot's
// responses), and page views arriving at random (each a fresh browser
// context loading the dashboard). Counts the upstream calls that reached the
// sandbox during the trace, by operation (`GET /sandbox/stats`), how far
// every responseCount the dashboards show is behind the sandbox's truth, and
// how long after an event on the watched chatbot its row is in every
// responses view.
//
// The truth is known without trusting the code under test: the chatbots'
// counts read from the sandbox before the trace, plus the events this script
// makes (it is their only source). Times are Date.now() in Node and in the
// pages (one machine, one clock). The schedule is the same for every
// configuration (a seeded PRNG).
//
// config: { chromium, origin, sandboxOrigin, apiKey, durationMs, dashboards,
//           watchers, viewMeanMs, pageSize, seed }

import { chromium as playwright } from "playwright-core";
import { config, report } from "./load-client.mjs";

const cfg = config();
const { chromium, origin, sandboxOrigin, apiKey, durationMs, dashboards, watchers, viewMeanMs, pageSize } = cfg;
const SETTLE_MS = 2_000;
const LATE_MS = 2_000;

/** A small seeded PRNG (mulberry32), so every configuration gets the same trace. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(cfg.seed ?? 7);

async function call(url, init = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
const stats = () => call(`${sandboxOrigin}/sandbox/stats`);
const simulate = (body) => call(`${sandboxOrigin}/sandbox/responses`, {
  method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ apiKey, ...body }),
});

const browser = await playwright.launch({
  executablePath: chromium,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

/** Records every count the chatbot table shows, with its time, as it changes. */
function watchCounts() {
  const root = document.querySelector("conferbot-chatbots").shadowRoot;
  const seen = new Map();
  window.__shown = [];
  const scan = () => {
    for (const row of root.querySelectorAll("tbody tr[data-id]")) {
      const cell = row.querySelector("td.numeric");
      if (!cell) continue;
      const count = Number(cell.textContent.replace(/[^\d]/g, ""));
      if (seen.get(row.dataset.id) !== count) {
        seen.set(row.dataset.id, count);
        window.__shown.push([Date.now(), row.dataset.id, count]);
      }
    }
  };
  scan();
  new MutationObserver(scan).observe(root, { subtree: true, childList: true, characterData: true });
}

/** Records when each response id first appears in the responses list. */
function watchResponses() {
  const root = document.querySelector("conferbot-responses").shadowRoot;
  const seen = new Set();
  window.__responses = [];
  const scan = () => {
    for (const item of root.querySelectorAll("ol.responses > li[data-id]")) {
      if (!seen.has(item.dataset.id)) {
        seen.add(item.dataset.id);
        window.__responses.push([Date.now(), item.dataset.id]);
      }
    }
  };
  scan();
  new MutationObserver(scan).observe(root, { subtree: true, childList: true });
}

async function openDashboard(watch) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, reducedMotion: "reduce" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.setDefaultTimeout(30_000);
  await page.goto(`${origin}/`);
  const table = page.locator("conferbot-chatbots");
  await table.locator("tbody tr[data-id]").first().waitFor();
  await table.locator(".live").filter({ hasText: "Live updates on" }).waitFor();
  if (watch) {
    await table.locator(`tbody tr[data-id="${watch}"] button.choose`).click();
    const list = page.locator("conferbot-responses");
    await list.locator("ol.responses > li[data-id]").first().waitFor();
    await list.locator(".live").filter({ hasText: "Live updates on" }).waitFor();
    await page.evaluate(watchResponses);
  }
  await page.evaluate(watchCounts);
  return { context, page, errors, watching: Boolean(watch) };
}

/** One page view: a fresh context loads the dashboard; what it shows first, and when. */
async function pageView() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, reducedMotion: "reduce" });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const started = Date.now();
    await page.goto(`${origin}/`);
    for (const widget of ["conferbot-chatbots", "conferbot-usage", "conferbot-webhooks"]) {
      await page.locator(widget).locator(".body[aria-busy='false']").waitFor({ state: "attached" });
    }
    const rows = await page.evaluate(() => [...document.querySelector("conferbot-chatbots").shadowRoot
      .querySelectorAll("tbody tr[data-id]")].map((row) => [row.dataset.id,
      Number(row.querySelector("td.numeric")?.textContent.replace(/[^\d]/g, "") ?? "NaN")]));
    const failed = await page.evaluate(() => ["conferbot-chatbots", "conferbot-usage", "conferbot-webhooks"]
      .filter((name) => document.querySelector(name).shadowRoot.querySelector(".error:not([hidden])")));
    return { at: Date.now(), started, rows, failed };
  } finally {
    await context.close();
  }
}

function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const result = {};
try {
  // The truth before the trace, read from the sandbox itself.
  const first = await call(`${sandboxOrigin}/api/v1/external/v1/chatbots?page=1&limit=${pageSize}`, { headers: { "x-api-key": apiKey } });
  const bots = first.data.map((bot) => bot.id);
  const counts = new Map(first.data.map((bot) => [bot.id, bot.responseCount]));
  /** Per chatbot, the count after each event, from when the event was sent: [[at, count]]. */
  const truth = new Map(first.data.map((bot) => [bot.id, [[0, bot.responseCount]]]));
  const watched = first.data.find((bot, i) => i >= 3 && bot.responseCount > 0)?.id ?? bots[0];
  const others = bots.filter((id) => id !== watched);
  const withResponses = first.data.filter((bot) => bot.responseCount > 0).map((bot) => bot.id);

  const open = [];
  for (let i = 0; i < dashboards; i++) open.push(await openDashboard(i < watchers ? watched : null));
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

  const before = await stats();
  const start = Date.now();
  const created = [];
  const other = { updated: 0, conversation: 0 };
  const views = [];
  const pending = [];
  let nextView = start + -Math.log(1 - random()) * viewMeanMs;
  for (let second = 1; Date.now() - start < durationMs; second++) {
    const due = start + second * 1000;
    while (nextView < due) {
      const at = nextView;
      pending.push(new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())))
        .then(pageView).then((view) => views.push(view), (error) => views.push({ error: String(error) })));
      nextView += -Math.log(1 - random()) * viewMeanMs;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    const bot = second % 10 === 5 ? watched : others[Math.floor(random() * others.length)];
    const sent = Date.now();
    const answer = await simulate({ chatbotId: bot });
    const count = counts.get(bot) + 1;
    counts.set(bot, count);
    truth.get(bot).push([sent, count]);
    created.push({ at: sent, bot, count, response: answer.data.id });
    if (second % 6 === 3) {
      await simulate({ chatbotId: withResponses[Math.floor(random() * withResponses.length)], event: "response.updated" });
      other.updated += 1;
    }
    if (second % 4 === 2) {
      await simulate({ chatbotId: bots[Math.floor(random() * bots.length)], event: second % 8 === 2 ? "conversation.started" : "conversation.completed" });
      other.conversation += 1;
    }
  }
  await Promise.all(pending);
  const end = Date.now();
  await new Promise((resolve) => setTimeout(resolve, LATE_MS));
  const after = await stats();

  const truthAt = (bot, at) => {
    let value = null;
    for (const [from, count] of truth.get(bot) ?? []) if (from <= at) value = count;
    return value;
  };
  // How far behind the truth each dashboard's counts are, sampled every 100 ms.
  const behind = [];
  const visible = [];
  let missing = 0;
  const responseDelays = [];
  /** Per event on the watched chatbot: when its row was in each responses view, by dashboard. */
  const rowsShown = new Map();
  for (const dashboard of open) {
    const shown = await dashboard.page.evaluate(() => window.__shown);
    const byBot = new Map();
    for (const [at, bot, count] of shown) {
      if (!byBot.has(bot)) byBot.set(bot, []);
      byBot.get(bot).push([at, count]);
    }
    const shownAt = (bot, at) => {
      let value = null;
      for (const [from, count] of byBot.get(bot) ?? []) if (from <= at) value = count;
      return value;
    };
    for (let at = start; at <= end; at += 100) {
      for (const bot of bots) {
        const [t, s] = [truthAt(bot, at), shownAt(bot, at)];
        if (t !== null && s !== null) behind.push(Math.max(0, t - s));
      }
    }
    for (const event of created) {
      const seen = (byBot.get(event.bot) ?? []).find(([at, count]) => at >= event.at - 5_000 && count >= event.count);
      if (seen) event.shownBy = Math.max(event.shownBy ?? 0, seen[0] - event.at);
      else missing += 1;
    }
    if (dashboard.watching) {
      const appeared = new Map(await dashboard.page.evaluate(() => window.__responses.map(([at, id]) => [id, at])));
      for (const event of created.filter((e) => e.bot === watched)) {
        if (!rowsShown.has(event.response)) rowsShown.set(event.response, []);
        if (appeared.has(event.response)) {
          responseDelays.push(appeared.get(event.response) - event.at);
          rowsShown.get(event.response).push(appeared.get(event.response) - event.at);
        }
      }
    }
  }
  for (const event of created) if (event.shownBy !== undefined) visible.push(event.shownBy);
  // An event's row is shown everywhere once the last responses view shows it.
  const everyView = [];
  let rowsMissing = 0;
  const watching = open.filter((d) => d.watching).length;
  for (const delays of rowsShown.values()) {
    if (delays.length === watching) everyView.push(Math.max(...delays));
    else rowsMissing += 1;
  }
  const viewBehind = [];
  for (const view of views) {
    for (const [bot, count] of view.rows ?? []) {
      const t = truthAt(bot, view.at);
      if (t !== null && Number.isFinite(count)) viewBehind.push(Math.max(0, t - count));
    }
  }
  const byOperation = {};
  for (const [operation, n] of Object.entries(after.byOperation ?? {})) {
    const delta = n - (before.byOperation?.[operation] ?? 0);
    if (delta > 0) byOperation[operation] = delta;
  }
  Object.assign(result, {
    durationMs: end - start,
    calls: after.apiCalls - before.apiCalls,
    byOperation,
    byStatus: after.byStatus,
    events: { created: created.length, onWatched: created.filter((e) => e.bot === watched).length, ...other },
    views: views.length,
    viewErrors: views.filter((v) => v.error || v.failed?.length).map((v) => v.error ?? v.failed.join(",")),
    behind: { max: Math.max(0, ...behind), p99: percentile(behind, 99), samples: behind.length },
    viewBehind: { max: Math.max(0, ...viewBehind), p99: percentile(viewBehind, 99), samples: viewBehind.length },
    visibleMs: { p50: percentile(visible, 50), p99: percentile(visible, 99), max: Math.max(0, ...visible), events: visible.length, missing },
    responsesMs: { p50: percentile(responseDelays, 50), p99: percentile(responseDelays, 99), shown: responseDelays.length },
    responsesEveryMs: { p50: percentile(everyView, 50), p99: percentile(everyView, 99), events: everyView.length, missing: rowsMissing },
    pageErrors: open.flatMap((d) => d.errors),
  });
  for (const dashboard of open) await dashboard.context.close();
} finally {
  await browser.close();
}
report(result);
