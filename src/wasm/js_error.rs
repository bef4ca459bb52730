//! Core errors as JS `ConferbotError`s.
//!
//! The class is defined in `js/conferbot_error.js` so that it truly extends
//! `Error`; Rust only fills in its fields.

use wasm_bindgen::prelude::*;

use crate::error::Error;

#[wasm_bindgen(module = "/src/wasm/js/conferbot_error.js")]
extern "C" {
    #[wasm_bindgen(js_name = conferbotError)]
    fn new_conferbot_error(
        kind: &str,
        message: &str,
        status: Option<u16>,
        detail: Option<String>,
        retry_after: Option<f64>,
    ) -> JsValue;

    #[wasm_bindgen(js_name = conferbotErrorClass)]
    fn class() -> JsValue;
}

/// `error` as a JS `ConferbotError` (`kind`, `status`, `message`, `detail`, `retryAfter`).
pub(crate) fn to_js(error: &Error) -> JsValue {
    new_conferbot_error(
        error.kind.as_str(),
        &error.message,
        error.status,
        error.detail.clone(),
        error.retry_after.map(|secs| secs as f64),
    )
}

/// The `ConferbotError` class itself; the package's entry points export it as
/// `ConferbotError`, so that `e instanceof ConferbotError` holds for users.
#[wasm_bindgen(js_name = conferbotErrorClass, skip_typescript)]
pub fn conferbot_error_class() -> JsValue {
    class()
}
