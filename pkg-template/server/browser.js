// `conferbot-wasm/server` in a browser build: refused. The handler holds the
// Conferbot API key, which must never reach a page; the page uses the client
// (`import { ConferbotClient } from "conferbot-wasm"`) through a server.
import { refuseBrowser } from "./core.js";

export function createConferbotHandler() {
  refuseBrowser("conferbot-wasm/server");
  throw new Error("conferbot-wasm/server runs on servers only (Node, Bun, Deno, workerd)");
}

export function toNodeListener() {
  return createConferbotHandler();
}

export function verifyWebhookSignature() {
  refuseBrowser("verifyWebhookSignature");
  throw new Error("verifyWebhookSignature runs on servers only: the webhook's secret must never reach a browser");
}

export const handlerOptions = Object.freeze([]);
