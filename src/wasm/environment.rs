//! Whether the code runs in a browser, where an API key would be visible to
//! every visitor of the page.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `globalThis`, one import (`js_sys::global()` tries four ways to find it).
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL_THIS: JsValue;
}

/// Globals only pages and browser workers have. `importScripts` is on every
/// browser worker's global scope (classic, module, shared, service), and on
/// no server's: Cloudflare workerd defines `WorkerGlobalScope` but is a server
/// whose code and secrets stay on it, so that name would refuse its `apiKey`.
const BROWSER_GLOBALS: [&str; 3] = ["window", "document", "importScripts"];

/// True when a `window`, `document` or `importScripts` global exists.
pub(crate) fn is_browser() -> bool {
    GLOBAL_THIS.with(|global| {
        BROWSER_GLOBALS.iter().any(|name| {
            Reflect::get(global, &JsValue::from_str(name)).is_ok_and(|v| !v.is_undefined())
        })
    })
}
