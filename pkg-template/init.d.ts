// `conferbot-wasm/init`: the same API as the package's main entry, and the
// wasm loads only when you call `init()` (for esbuild, iife builds, CDNs).
export * from "./conferbot.js";

/**
 * Where `conferbot_bg.wasm` is: its URL (what `import wasmUrl from
 * "conferbot-wasm/conferbot_bg.wasm"` gives with esbuild's
 * `--loader:.wasm=file`), a `Request`, a `Response` (or the promise `fetch`
 * returns), a compiled `WebAssembly.Module`, or the file's bytes.
 */
export type WasmSource =
  | string
  | URL
  | Request
  | Response
  | PromiseLike<Response>
  | WebAssembly.Module
  | BufferSource;

/**
 * Loads and instantiates the wasm; call it once, before creating a client.
 * Later calls answer the first call's promise. Rejects with a
 * `ConferbotError` naming the file and where it was looked for: kind
 * `network` when it cannot be fetched (with `status` when the server
 * answered, e.g. 404), `decode` when what arrived is not the package's wasm,
 * `invalid_request` without a source. Using the client before `init()` has
 * finished throws a `ConferbotError` (`invalid_request`) that says so.
 */
export function init(source: WasmSource): Promise<void>;
export default init;
