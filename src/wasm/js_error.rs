//! Core errors as JS `ConferbotError`s.
//!
//! The class is defined in `js/conferbot_error.js` so that it truly extends
//! `Error`; Rust only fills in its fields.

use wasm_bindgen::prelude::*;
use web_sys::Headers;

use crate::error::Error;
use crate::protocol::bff::REQUEST_ID_HEADER;

#[wasm_bindgen(module = "/src/wasm/js/conferbot_error.js")]
extern "C" {
    #[wasm_bindgen(js_name = conferbotError)]
    #[allow(clippy::too_many_arguments)]
    fn new_conferbot_error(
        kind: &str,
        message: &str,
        status: Option<u16>,
        detail: Option<String>,
        retry_after: Option<f64>,
        headers: Option<Headers>,
        request_id: Option<String>,
    ) -> JsValue;

    #[wasm_bindgen(js_name = conferbotErrorClass)]
    fn class() -> JsValue;
}

/// A failed call: the error, and the answer's headers when one arrived.
#[derive(Debug, Clone)]
pub(crate) struct Rejection {
    /// What went wrong.
    pub error: Error,
    /// The answer's headers, when the server answered.
    pub headers: Option<Headers>,
}

impl From<Error> for Rejection {
    fn from(error: Error) -> Self {
        Self {
            error,
            headers: None,
        }
    }
}

/// `error` as a JS `ConferbotError` (`kind`, `status`, `message`, `detail`, `retryAfter`).
pub(crate) fn to_js(error: &Error) -> JsValue {
    rejection_to_js(&Rejection::from(error.clone()))
}

/// A failed call as a JS `ConferbotError`, with the answer's `headers` and
/// its `requestId` (the `x-request-id` header) when the server sent them.
pub(crate) fn rejection_to_js(rejection: &Rejection) -> JsValue {
    let error = &rejection.error;
    let request_id = rejection
        .headers
        .as_ref()
        .and_then(|headers| headers.get(REQUEST_ID_HEADER).ok().flatten());
    new_conferbot_error(
        error.kind.as_str(),
        &error.message,
        error.status,
        error.detail.clone(),
        error.retry_after.map(|secs| secs as f64),
        rejection.headers.clone(),
        request_id,
    )
}

/// The `ConferbotError` class itself; the package's entry points export it as
/// `ConferbotError`, so that `e instanceof ConferbotError` holds for users.
#[wasm_bindgen(js_name = conferbotErrorClass, skip_typescript)]
pub fn conferbot_error_class() -> JsValue {
    class()
}
