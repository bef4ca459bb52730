// Where the widgets get the npm package `conferbot-wasm`: the BFF serves it at
// /pkg/, and browser.js is its "browser" entry (pkg/package.json, "exports").
// This is the only line that knows; with a bundler, make it
// `export { ConferbotClient, ConferbotError, WEBHOOK_EVENTS, planFacts } from "conferbot-wasm";`.
// (A module rather than an import map, so that the page has no inline script
// and works under a Content-Security-Policy of `script-src 'self'`.)

export { ConferbotClient, ConferbotError, WEBHOOK_EVENTS, planFacts } from "/pkg/browser.js";

/** @typedef {import("/pkg/browser.js").Chatbot} Chatbot */
/** @typedef {import("/pkg/browser.js").Usage} Usage */
/** @typedef {import("/pkg/browser.js").Webhook} Webhook */
/** @typedef {import("/pkg/browser.js").KnownWebhookEvent} KnownWebhookEvent */
/** @typedef {import("/pkg/browser.js").ConferbotEvent} ConferbotEvent */
/** @typedef {import("/pkg/browser.js").ChatbotResponse} ChatbotResponse */
/** @typedef {import("/pkg/browser.js").JsonValue} JsonValue */
/** @typedef {import("/pkg/browser.js").Quota} Quota */
/**
 * @template T
 * @typedef {import("/pkg/browser.js").Page<T>} Page
 */
