//! The retry loop: attempts until success or until the core's
//! [`RetryPolicy`](crate::RetryPolicy) gives up, waiting between attempts
//! with a timer that the caller's signal cuts short, and telling the caller's
//! `onRetry` before each wait.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use crate::error::Error;
use crate::retry::RetryDecision;

use super::call_options::CallOptions;
use super::decode::error_body;
use super::fetch::{aborted, attempt, Outgoing};

#[wasm_bindgen(module = "/src/wasm/js/attempt.js")]
extern "C" {
    /// See `js/attempt.js`: resolves `true` after `ms`, `false` once `signal` aborts.
    pub(crate) fn sleep(ms: f64, signal: Option<AbortSignal>) -> Promise;
}

/// Sends `request` with retries; answers the body (a JS string) of the first 2xx answer.
pub(crate) async fn send(request: &Outgoing<'_>, call: &CallOptions) -> Result<JsValue, Error> {
    let mut retries_done = 0;
    loop {
        if call.aborted() {
            return Err(aborted());
        }
        let error = match attempt(request, call).await {
            Ok(answer) if (200..300).contains(&answer.status) => return Ok(answer.body),
            Ok(answer) => Error::from_error_body(
                answer.status,
                error_body(&answer.body),
                answer.retry_after.as_deref(),
            ),
            Err(error) => error,
        };
        let decision =
            call.retry
                .decide(retries_done, request.method, &error, js_sys::Math::random());
        match decision {
            RetryDecision::GiveUp => return Err(error),
            RetryDecision::RetryAfterMs(ms) => {
                call.before_retry(retries_done + 1, ms, &error);
                let slept = JsFuture::from(sleep(ms as f64, call.signal.clone())).await;
                if slept.ok().and_then(|done| done.as_bool()) != Some(true) {
                    return Err(aborted());
                }
                retries_done += 1;
            }
        }
    }
}
