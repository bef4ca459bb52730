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
