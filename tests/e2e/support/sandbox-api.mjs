// Reading the sandbox directly, and arming its faults, to know what the
// dashboard should show without trusting the code under test.

import { STARTER_KEY } from "./servers.mjs";

/**
 * A sandbox at `origin` (`http://127.0.0.1:PORT`), read with `apiKey`.
 * @param {string} origin
 * @param {string} [apiKey]
 */
export function sandboxApi(origin, apiKey = STARTER_KEY) {
  const api = `${origin}/api/v1/external/v1`;

  /**
   * @param {string} url
   * @param {RequestInit} [init]
   */
  async function call(url, init = {}) {
    const response = await fetch(url, init);
    const text = await response.text();
    if (!response.ok) throw new Error(`${init.method ?? "GET"} ${url} answered ${response.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  }
  /** @param {string} route */
  const get = (route) => call(`${api}/${route}`, { headers: { "x-api-key": apiKey } });
  /**
   * @param {string} method
   * @param {string} route
   * @param {unknown} [body]
   */
  const admin = (method, route, body) => call(`${origin}/sandbox/${route}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

  return {
    /**
     * One page of chatbots: `{data, total, page, totalPages}`.
     * @param {number} page
     * @param {number} limit
     */
    chatbots: (page, limit) => get(`chatbots?page=${page}&limit=${limit}`),
    /** This month's usage: `{month, plan, used, limit, remaining}`. */
    usage: async () => (await get("usage")).data,
    /** The registered webhooks. */
    webhooks: async () => {
      const body = await get("webhooks");
      return Array.isArray(body) ? body : body.data;
    },
    /**
     * Registers a webhook directly (to set a scene, not to test the widget).
     * @param {string} url
     * @param {string[]} events
     */
    createWebhook: (url, events) => call(`${api}/webhooks`, {
      method: "POST",
      headers: { "x-api-key": apiKey, "content-type": "application/json" },
      body: JSON.stringify({ url, events }),
    }),
    /**
     * Arms a fault for the next `count` API answers.
     * @param {"status500" | "nonJson" | "truncated" | "delay" | "drop"} kind
     * @param {number} count
     * @param {number} [delayMs] for `delay`: how long each answer waits
     */
    armFault: (kind, count, delayMs) => admin("POST", "faults", { kind, count, ...(delayMs ? { delayMs } : {}) }),
    clearFaults: () => admin("DELETE", "faults"),
    /** What reached the sandbox: `{apiCalls, byStatus, rateLimited, dropped}` (an admin route: not counted). */
    stats: () => admin("GET", "stats"),
    /**
     * Simulates a new response on a chatbot, delivered to the workspace's
     * webhooks: `{data: response, deliveries}`.
     * @param {string} chatbotId
     * @param {string} [event] `response.created` unless said
     */
    simulateResponse: (chatbotId, event) => admin("POST", "responses", { apiKey, chatbotId, ...(event ? { event } : {}) }),
    /**
     * A new response with these answers on a chatbot, delivered like any other.
     * @param {string} chatbotId
     * @param {Record<string, unknown>} answers
     */
    simulateAnswers: (chatbotId, answers) => admin("POST", "responses", { apiKey, chatbotId, answers }),
    /**
     * One page of a chatbot's responses: `{data, total, page, totalPages}`.
     * @param {string} chatbotId
     * @param {number} page
     * @param {number} limit
     */
    responses: (chatbotId, page, limit) => get(`chatbots/${chatbotId}/responses?page=${page}&limit=${limit}`),
    /**
     * Waits until a BFF started with `--sandbox` has registered its webhook
     * receiver here (it does so at start, in the background).
     * @param {() => string} output the BFF's output, to explain a failure
     */
    waitForReceiver: async (output) => {
      const deadline = Date.now() + 15_000; // a hang guard, not a timing assertion
      for (;;) {
        const hooks = await call(`${api}/webhooks`, { headers: { "x-api-key": apiKey } });
        const list = Array.isArray(hooks) ? hooks : hooks.data;
        if (list.some((/** @type {{url: string}} */ hook) => hook.url.endsWith("/webhooks/incoming"))) return;
        if (Date.now() > deadline) throw new Error(`the BFF did not register its webhook receiver:\n${output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    reset: () => admin("POST", "reset"),
    /** @param {number} used calls this month for this key */
    setUsed: (used) => admin("POST", "usage", { apiKey, used }),
    /** Calls the API until it answers 429; returns how many calls that took. */
    exhaustRateLimit: async (maxCalls = 500) => {
      for (let calls = 1; calls <= maxCalls; calls++) {
        const response = await fetch(`${api}/usage`, { headers: { "x-api-key": apiKey } });
        await response.arrayBuffer();
        if (response.status === 429) return calls;
      }
      throw new Error(`the sandbox did not rate-limit within ${maxCalls} calls`);
    },
  };
}
