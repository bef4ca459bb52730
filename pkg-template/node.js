// Node entry point: reads the wasm beside this file and instantiates it
// synchronously, so `import { ConferbotClient } from "conferbot-wasm"` works
// with no init call.
import { readFileSync } from "node:fs";
import { initSync, conferbotErrorClass } from "./conferbot.js";

initSync({ module: readFileSync(new URL("./conferbot_bg.wasm", import.meta.url)) });

export { ConferbotClient } from "./conferbot.js";
export const ConferbotError = conferbotErrorClass();
// The protocol facts (PLANS, MAX_LIMIT, …), written from the Rust tables.
export * from "./conferbot_facts.js";
