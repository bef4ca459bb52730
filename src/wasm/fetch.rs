//! One HTTP attempt over the global `fetch` (browsers and Node 18+ alike),
//! bounded by its timeout and the caller's signal, with its answer checked.
//!
//! The attempt itself is `exchange` in `js/calls.js`: request, body and the
//! generated checker of the answer's form (`js/wire.js`) in one JS function,
//! so a call crosses between wasm and JS once instead of once per step and
//! per field. What it rejects with is typed here ([`refusal`]); every way an
//! attempt can fail becomes an [`Error`], and nothing here can panic.
//!
//! Why not gloo-net: its `http` client also calls the global `fetch` and works
//! in Node 20, but it panics on JS values it does not expect (a rejection that
//! is not an `Error`, a non-`Response` from a patched `fetch`), and a panic
//! aborts the whole wasm module; it also pulls in the `http` crate and builds
//! an extra `Request` and `URL` per call. These few bindings cost less.

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{AbortSignal, Headers, RequestInit};

use crate::error::{ApiErrorBody, Error, ErrorKind};
use crate::text;

use super::js_error::Rejection;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    pub(crate) fn global_fetch(url: &str, init: &RequestInit) -> Promise;
}

#[wasm_bindgen(module = "/src/wasm/js/calls.js")]
extern "C" {
    /// See `js/calls.js`: a signal that fires on the caller's, on a timeout
    /// (when one is given) or on `abort()`.
    pub(crate) type Attempt;
    #[wasm_bindgen(constructor)]
    pub(crate) fn new(caller_signal: Option<AbortSignal>, timeout_ms: Option<u32>) -> Attempt;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn signal(this: &Attempt) -> AbortSignal;
    #[wasm_bindgen(method, getter, js_name = timedOut)]
    fn timed_out(this: &Attempt) -> bool;
    #[wasm_bindgen(method, getter, js_name = callerAborted)]
    pub(crate) fn caller_aborted(this: &Attempt) -> bool;
    /// The answer's headers are in: the timeout no longer applies.
    #[wasm_bindgen(method)]
    pub(crate) fn connected(this: &Attempt);
    #[wasm_bindgen(method)]
    pub(crate) fn abort(this: &Attempt);
    #[wasm_bindgen(method)]
    pub(crate) fn dispose(this: &Attempt);

}

/// Builds `Headers` from name/value pairs; an invalid name or value is bad input.
pub(crate) fn checked_headers(pairs: &[(String, String)]) -> Result<Headers, Error> {
    let headers = Headers::new()
        .map_err(|_| Error::new(ErrorKind::Network, "fetch Headers are not available"))?;
    for (name, value) in pairs {
        headers.set(name, value).map_err(|_| {
            Error::invalid_request(format!(
                "header {} is not a valid HTTP header name and value",
                text::quote(name)
            ))
        })?;
    }
    Ok(headers)
}

/// What `exchange` rejected with, typed.
pub(crate) fn refusal(outcome: &JsValue, timeout_ms: u32) -> Rejection {
    let get = |key: &str| Reflect::get(outcome, &JsValue::from_str(key)).unwrap_or_default();
    let headers = get("headers").dyn_into::<Headers>().ok();
    if let Some(status) = get("status").as_f64() {
        let body = get("body");
        let text = |key: &str| {
            Reflect::get(&body, &JsValue::from_str(key))
                .ok()?
                .as_string()
        };
        let body = text("error").map(|error| ApiErrorBody {
            error,
            message: text("message"),
        });
        let retry_after = get("retryAfter").as_string();
        let status = u16::try_from(status as u32).unwrap_or(0);
        let error = Error::from_error_body(status, body, retry_after.as_deref());
        return Rejection { error, headers };
    }
    let reason = get("reason");
    let error = match get("failed").as_string().unwrap_or_default().as_str() {
        "aborted" => aborted(),
        "timeout" => Error::new(
            ErrorKind::Timeout,
            format!("no answer within {timeout_ms} ms"),
        ),
        "cut" => Error::decode(format!(
            "the response body was cut off: {}",
            describe(&reason)
        )),
        "decode" => refused_answer("the answer", &reason, &get("text")),
        _ => Error::new(
            ErrorKind::Network,
            format!("could not reach the server: {}", describe(&reason)),
        ),
    };
    Rejection { error, headers }
}

/// The `decode` error of a body `what` that is not the documented JSON:
/// `reason` is the checker's (a string) or `JSON.parse`'s (a `SyntaxError`).
pub(crate) fn refused_answer(what: &str, reason: &JsValue, text: &JsValue) -> Error {
    const QUOTED_CHARS: usize = 60;
    let why = reason.as_string().unwrap_or_else(|| describe(reason));
    let start: String = text
        .as_string()
        .unwrap_or_default()
        .chars()
        .take(QUOTED_CHARS)
        .collect();
    let mut message = String::from(what);
    message.push_str(" is not the documented JSON (");
    message.push_str(&why);
    message.push_str("); it starts with ");
    message.push_str(&text::quote(&start));
    Error::decode(message)
}

/// Why a fetch or a body read rejected: the caller aborted, time ran out, or
/// the network failed (`context` says which step, the JS error says why).
pub(crate) fn failure(
    attempt: &Attempt,
    timeout_ms: u32,
    reason: &JsValue,
    context: &str,
) -> Error {
    if attempt.caller_aborted() {
        aborted()
    } else if attempt.timed_out() {
        Error::new(
            ErrorKind::Timeout,
            format!("no answer within {timeout_ms} ms"),
        )
    } else {
        Error::new(
            ErrorKind::Network,
            format!("{context}: {}", describe(reason)),
        )
    }
}

/// The error of a call whose signal fired, before, during or between attempts.
pub(crate) fn aborted() -> Error {
    Error::new(ErrorKind::Aborted, "the request was aborted by its signal")
}

/// The JS error's message, with Node's `cause` (`ECONNREFUSED …`) when it has one.
fn describe(reason: &JsValue) -> String {
    let text = |value: &JsValue, key: &str| {
        Reflect::get(value, &JsValue::from_str(key))
            .ok()
            .and_then(|v| v.as_string())
    };
    let message = text(reason, "message")
        .or_else(|| reason.as_string())
        .unwrap_or_default();
    let cause = Reflect::get(reason, &JsValue::from_str("cause"))
        .ok()
        .filter(JsValue::is_object)
        .and_then(|cause| text(&cause, "message"));
    match cause {
        Some(cause) => format!("{message} ({cause})"),
        None => message,
    }
}
