// Cloudflare workerd entry (export conditions "workerd" and "worker", which
// wrangler uses): workerd has no `import.meta.url` to find the wasm from, but
// it imports a .wasm file as a compiled WebAssembly.Module (wrangler uploads
// it beside the bundle), and instantiating a compiled module synchronously is
// allowed there. So users need no init call, as in Node.
import wasm from "./conferbot_bg.wasm";
import { initSync, conferbotErrorClass } from "./conferbot.js";

initSync({ module: wasm });

export { ConferbotClient } from "./conferbot.js";
export const ConferbotError = conferbotErrorClass();
// The protocol facts (PLANS, MAX_LIMIT, …), written from the Rust tables.
export * from "./conferbot_facts.js";
