// A minimal plain-JS client of the Conferbot External API, written only as the
// benchmark's peer (`cargo xtask bench`); it is not shipped.
//
// To be a fair minimal equivalent of the wasm package it covers the same
// endpoints with the same surface, checks the same inputs before any request
// (page >= 1, limit 1..=100, 24-hex-digit ids, known webhook events), checks the
// same fields of every answer, throws the same error shape
// ({ kind, status, message, detail, retryAfter }) and retries like it
// (429 after Retry-After up to 60 s; network errors and 5xx for GETs, with
// exponential backoff and full jitter; 2 retries). No more than that.

const DEFAULT_BASE_URL = "https://api-v2.conferbot.com/api/v1";
const MAX_LIMIT = 100;
const MAX_RETRIES = 2;
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;
const MAX_RETRY_AFTER_MS = 60000;
const OBJECT_ID = /^[0-9a-fA-F]{24}$/;
const EVENTS = ["response.created", "response.updated", "conversation.started", "conversation.completed"];

/** Every failure of a call, with a kind a program can branch on. */
export class ConferbotError extends Error {
  constructor(kind, message, { status = null, detail = null, retryAfter = null } = {}) {
    super(message);
    this.name = "ConferbotError";
    this.kind = kind;
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

const invalid = (message) => new ConferbotError("invalid_request", message);
const decodeError = (message) => new ConferbotError("decode", message);

function kindOfStatus(status) {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "server";
  return "bad_request";
}

function checkPage(page = 1, limit = 20) {
  if (!Number.isInteger(page) || page < 1) throw invalid(`page must be an integer >= 1, got ${page}`);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw invalid(`limit must be an integer in 1..=${MAX_LIMIT}, got ${limit}`);
  }
  return { page, limit };
}

function checkId(id, what) {
  if (typeof id !== "string" || !OBJECT_ID.test(id)) throw invalid(`${what} must be 24 hex digits, got ${JSON.stringify(id)}`);
  return id;
}

// Field checks on answers: the same ones the package's typed decode makes.
const isString = (v) => typeof v === "string";
const isCount = (v) => v === undefined || (Number.isInteger(v) && v >= 0);

function checkChatbot(c) {
  if (!c || !isString(c.id) || !isString(c.name) || !isString(c.status) || !isCount(c.responseCount)
      || !isString(c.createdAt) || !isString(c.updatedAt)) {
    throw decodeError("a chatbot lacks id, name, status, createdAt or updatedAt");
  }
  return c;
}

function checkResponse(r) {
  if (!r || !isString(r.id)) throw decodeError("a response lacks its id");
  return r;
}

function checkWebhook(w) {
  if (!w || !isString(w.id) || !isString(w.url) || !Array.isArray(w.events)) {
    throw decodeError("a webhook lacks id, url or events");
  }
  return w;
}

function checkUsage(u) {
  if (!u || !isString(u.month) || !isString(u.plan) || !isCount(u.used)) throw decodeError("usage lacks month, plan or used");
  return u;
}

/** A page of a list, which can fetch the next one. */
class Page {
  constructor(body, request, fetchPage) {
    if (!body || !Array.isArray(body.data)) throw decodeError("a page has no data array");
    this.data = body.data;
    this.total = body.total ?? null;
    this.page = body.page ?? request.page;
    this.totalPages = body.totalPages ?? null;
    this.limit = request.limit;
    this._fetchPage = fetchPage;
  }

  hasNextPage() {
    if (this.totalPages !== null) return this.page < this.totalPages;
    return this.data.length === this.limit;
  }

  async getNextPage() {
    return this.hasNextPage() ? this._fetchPage({ page: this.page + 1, limit: this.limit }) : null;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The client: one method per endpoint of the API. */
export class ConferbotClient {
  constructor({ baseUrl = DEFAULT_BASE_URL, apiKey = null, maxRetries = MAX_RETRIES } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.apiKey = apiKey;
    this.maxRetries = maxRetries;
  }

  async listChatbots(options = {}) {
    const request = checkPage(options.page, options.limit);
    const body = await this._call("GET", `/chatbots?page=${request.page}&limit=${request.limit}`);
    const page = new Page(body, request, (next) => this.listChatbots(next));
    page.data.forEach(checkChatbot);
    return page;
  }

  async getChatbot(id) {
    const body = await this._call("GET", `/chatbots/${checkId(id, "chatbot id")}`);
    return checkChatbot(body?.data);
  }

  async listResponses(chatbotId, options = {}) {
    checkId(chatbotId, "chatbot id");
    const request = checkPage(options.page, options.limit);
    const body = await this._call("GET", `/chatbots/${chatbotId}/responses?page=${request.page}&limit=${request.limit}`);
    const page = new Page(body, request, (next) => this.listResponses(chatbotId, next));
    page.data.forEach(checkResponse);
    return page;
  }

  async getUsage() {
    const body = await this._call("GET", "/usage");
    return checkUsage(body?.data);
  }

  async listWebhooks() {
    const body = await this._call("GET", "/webhooks");
    if (!body || !Array.isArray(body.data)) throw decodeError("webhooks has no data array");
    return body.data.map(checkWebhook);
  }

  async createWebhook({ url, events }) {
    if (typeof url !== "string" || !/^https?:\/\//.test(url) || url.length > 2048) throw invalid("url must be an http(s) URL");
    if (!Array.isArray(events) || events.length === 0) throw invalid("events must be a non-empty array");
    for (const event of events) if (!EVENTS.includes(event)) throw invalid(`unknown event ${event}; known: ${EVENTS.join(", ")}`);
    const body = await this._call("POST", "/webhooks", { url, events });
    return checkWebhook(body?.data);
  }

  async deleteWebhook(id) {
    await this._call("DELETE", `/webhooks/${checkId(id, "webhook id")}`);
  }

  /** Every chatbot, one page in memory at a time. */
  async *chatbots(options = {}) {
    let page = await this.listChatbots({ page: 1, limit: options.limit ?? 20 });
    while (page) {
      yield* page.data;
      page = await page.getNextPage();
    }
  }

  // One call with the retry policy; answers the decoded JSON body.
  async _call(method, path, json) {
    for (let retries = 0; ; retries++) {
      let error;
      try {
        return await this._once(method, path, json);
      } catch (caught) {
        error = caught;
      }
      const wait = this._retryWait(retries, method, error);
      if (wait === null) throw error;
      await sleep(wait);
    }
  }

  _retryWait(retries, method, error) {
    if (retries >= this.maxRetries || !(error instanceof ConferbotError)) return null;
    if (error.kind === "rate_limited") {
      if (error.retryAfter === null) return this._backoff(retries);
      const wait = error.retryAfter * 1000;
      return wait <= MAX_RETRY_AFTER_MS ? wait : null;
    }
    if (method === "GET" && (error.kind === "network" || error.kind === "server")) return this._backoff(retries);
    return null;
  }

  _backoff(retries) {
    return Math.floor(Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** retries));
  }

  async _once(method, path, json) {
    const headers = { accept: "application/json" };
    if (this.apiKey) headers["x-api-key"] = this.apiKey;
    if (json !== undefined) headers["content-type"] = "application/json";
    let response;
    try {
      response = await fetch(`${this.baseUrl}/external/v1${path}`, {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
      });
    } catch (cause) {
      throw new ConferbotError("network", `request failed: ${cause?.message ?? cause}`);
    }
    const text = await response.text();
    if (!response.ok) {
      let parsed = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not the documented error JSON: keep the status as the message.
      }
      const retryAfter = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
      throw new ConferbotError(kindOfStatus(response.status), parsed?.error ?? `HTTP ${response.status}`, {
        status: response.status,
        detail: parsed?.message ?? null,
        retryAfter: Number.isNaN(retryAfter) ? null : retryAfter,
      });
    }
    try {
      return text === "" ? null : JSON.parse(text);
    } catch {
      throw decodeError("the answer is not JSON");
    }
  }
}
