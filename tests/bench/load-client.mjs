// Loads the `ConferbotClient` class of either client under test, the same way
// in every bench script: "wasm" is the built package (its entry module given
// by `cargo xtask bench` from pkg/package.json), "plain" the plain-JS peer.

import { pathToFileURL } from "node:url";

/**
 * Imports a client module and waits until it can be used.
 * @param {"wasm"|"plain"} kind
 * @param {string} wasmEntry absolute path of the package's Node entry
 */
export async function loadClient(kind, wasmEntry) {
  const url = kind === "wasm" ? pathToFileURL(wasmEntry).href : new URL("./plain-client.mjs", import.meta.url).href;
  const mod = await import(url);
  await whenReady(mod);
  if (typeof mod.ConferbotClient !== "function") throw new Error(`${url} exports no ConferbotClient`);
  return mod.ConferbotClient;
}

/**
 * Entries built by wasm-bindgen for the web export an async init (`default`)
 * next to `initSync`; ours may also export a `ready` promise. A module that
 * instantiates its wasm on import has neither.
 */
export async function whenReady(mod) {
  if (mod.ready && typeof mod.ready.then === "function") await mod.ready;
  else if (typeof mod.default === "function" && typeof mod.initSync === "function") await mod.default();
}

/** Prints the result as the last line of stdout, for xtask to read. */
export function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** The configuration xtask passes as the one argument: JSON. */
export function config() {
  return JSON.parse(process.argv[2] ?? "{}");
}
