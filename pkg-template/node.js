// Node entry point: reads the wasm beside this file and instantiates it
// synchronously, so `import { ConferbotClient } from "conferbot-wasm"` works
// with no init call.
import { readFileSync } from "node:fs";
import { initSync, conferbotErrorClass, conferbotFacts } from "./conferbot.js";

initSync({ module: readFileSync(new URL("./conferbot_bg.wasm", import.meta.url)) });

export { ConferbotClient, verifyWebhookSignature } from "./conferbot.js";
export const ConferbotError = conferbotErrorClass();
// The protocol facts, written from the Rust tables (src/shape/javascript.rs).
export const { PLANS, DEFAULT_LIMIT, MAX_LIMIT, WEBHOOK_EVENTS, RESYNC_EVENT, planFacts } = conferbotFacts();
