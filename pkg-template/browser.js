// Browser (and bundler) entry point: fetches and instantiates the wasm beside
// this file before the module finishes loading (top-level await), so users
// need no init call. Bundlers that understand `new URL(…, import.meta.url)`
// (Vite, webpack 5, Parcel) copy the .wasm for you; with esbuild, copy
// conferbot_bg.wasm next to your bundle.
import init, { conferbotErrorClass } from "./conferbot.js";

await init({ module_or_path: new URL("./conferbot_bg.wasm", import.meta.url) });

export { ConferbotClient } from "./conferbot.js";
export const ConferbotError = conferbotErrorClass();
// The protocol facts (PLANS, MAX_LIMIT, …), written from the Rust tables.
export * from "./conferbot_facts.js";
