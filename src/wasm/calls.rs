//! A call from request to answer, driven by JS, decided by Rust.
//!
//! The loop of attempts is `send` in `js/calls.js` (and `sendPage` for a
//! list page): a successful call runs from the request to the checked answer
//! without re-entering the wasm, and without a Rust future, a closure or a
//! string per field. What needs deciding comes back here: after a failed
//! attempt, [`CallPolicy::retry_delay`] applies the core's
//! [`RetryPolicy`](crate::RetryPolicy) (retry or not, after how long), and
//! [`CallPolicy::failure`] types the final failure as a `ConferbotError`.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use crate::endpoint::Method;
use crate::retry::{RetryDecision, RetryPolicy};

use super::call_options::CallOptions;
use super::fetch::refusal;
use super::js_error::rejection_to_js;
use super::page::PageCursor;

#[wasm_bindgen(module = "/src/wasm/js/calls.js")]
extern "C" {
    /// See `js/calls.js`: resolves `true` after `ms`, `false` once `signal` aborts.
    pub(crate) fn sleep(ms: f64, signal: Option<AbortSignal>) -> Promise;

    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(js_name = send)]
    fn send_js(
        judge: &JsValue,
        wire: &JsValue,
        method: &str,
        url: &str,
        headers: &JsValue,
        body: Option<&JsValue>,
        signal: Option<AbortSignal>,
        timeout_ms: u32,
        max_retries: u32,
        form: i32,
        on_retry: Option<js_sys::Function>,
        on_quota: Option<js_sys::Function>,
    ) -> Promise;

    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(js_name = sendPage)]
    fn send_page_js(
        cursor: PageCursor,
        judge: &JsValue,
        wire: &JsValue,
        method: &str,
        url: &str,
        headers: &JsValue,
        signal: Option<AbortSignal>,
        timeout_ms: u32,
        max_retries: u32,
        form: i32,
        on_retry: Option<js_sys::Function>,
        on_quota: Option<js_sys::Function>,
    ) -> Promise;
}

#[wasm_bindgen(module = "/src/wasm/js/wire.js")]
extern "C" {
    /// The generated checkers, handed to the call loop as `wire`: `calls.js`
    /// imports no other snippet (wasm-bindgen-test-runner's headless page
    /// hangs now and then on snippets that import each other).
    #[wasm_bindgen(thread_local_v2, js_name = wireChecks)]
    static WIRE: JsValue;
}

/// `{ checkAnswer, errorBody, quotaOf }` of `js/wire.js`, made once.
fn wire() -> JsValue {
    WIRE.with(JsValue::clone)
}

/// What the JS call loop asks after a failed attempt: one per client.
#[wasm_bindgen(skip_typescript)]
pub struct CallPolicy {
    retry: RetryPolicy,
}

impl CallPolicy {
    /// The judge of a client whose calls retry by `retry` (a call may change
    /// only its retry count).
    pub(crate) fn for_client(retry: RetryPolicy) -> JsValue {
        Self { retry }.into()
    }
}

#[wasm_bindgen]
impl CallPolicy {
    /// Milliseconds to wait before the next attempt after `outcome` (what
    /// `exchange` rejected with), or `-1` to give up.
    #[wasm_bindgen(js_name = retryDelay, skip_typescript)]
    pub fn retry_delay(
        &self,
        outcome: JsValue,
        method: &str,
        retries_done: u32,
        max_retries: u32,
        timeout_ms: u32,
        random_unit: f64,
    ) -> f64 {
        // An unknown method is treated as what may not be repeated.
        let method = Method::parse(method).unwrap_or(Method::Post);
        let error = refusal(&outcome, timeout_ms).error;
        let policy = self.retry.with_max_retries(max_retries);
        match policy.decide(retries_done, method, &error, random_unit) {
            RetryDecision::RetryAfterMs(ms) => ms as f64,
            RetryDecision::GiveUp => -1.0,
        }
    }

    /// The `ConferbotError` of a call that ended with `outcome`.
    #[wasm_bindgen(skip_typescript)]
    pub fn failure(&self, outcome: JsValue, timeout_ms: u32) -> JsValue {
        rejection_to_js(&refusal(&outcome, timeout_ms))
    }
}

/// The index of a form in the generated checker's table (`-1`: no answer).
fn form_index(form: Option<u32>) -> i32 {
    form.map_or(-1, |form| i32::try_from(form).unwrap_or(-1))
}

/// Sends a call of `method` to `url` with retries: a promise of its checked
/// answer (`undefined` when `form` is `None`: it returns nothing). `form` is
/// a [`Form::index`](crate::shape::Form::index), made at compile time.
pub(crate) fn send(
    judge: &JsValue,
    headers: &JsValue,
    call: &CallOptions,
    method: Method,
    url: &str,
    body: Option<&JsValue>,
    form: Option<u32>,
) -> Promise {
    send_js(
        judge,
        &wire(),
        method.as_str(),
        url,
        headers,
        body,
        call.signal.clone(),
        call.timeout_ms,
        call.retry.max_retries,
        form_index(form),
        call.on_retry.clone(),
        call.on_quota.clone(),
    )
}

/// Sends the GET of one list page: a promise of the JS `Page`, whose
/// numbers `cursor` records first.
pub(crate) fn send_page(
    cursor: PageCursor,
    judge: &JsValue,
    headers: &JsValue,
    call: &CallOptions,
    url: &str,
    form: u32,
) -> Promise {
    send_page_js(
        cursor,
        judge,
        &wire(),
        Method::Get.as_str(),
        url,
        headers,
        call.signal.clone(),
        call.timeout_ms,
        call.retry.max_retries,
        form_index(Some(form)),
        call.on_retry.clone(),
        call.on_quota.clone(),
    )
}
