//! One HTTP attempt over the global `fetch` (browsers and Node 18+ alike),
//! bounded by its timeout and the caller's signal.
//!
//! `fetch` is bound on the global object rather than through `window`, so the
//! same module runs in pages, workers and Node. Every way an attempt can fail
//! becomes a typed [`Error`]; nothing here can panic.
//!
//! Why not gloo-net: its `http` client also calls the global `fetch` and works
//! in Node 20, but it panics on JS values it does not expect (a rejection that
//! is not an `Error`, a non-`Response` from a patched `fetch`), and a panic
//! aborts the whole wasm module; it also pulls in the `http` crate and builds
//! an extra `Request` and `URL` per call. These few bindings cost less.

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, RequestInit, Response};

use crate::endpoint::{Method, CSRF_HEADER};
use crate::error::{Error, ErrorKind};
use crate::text;

use super::call_options::CallOptions;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    pub(crate) fn global_fetch(url: &str, init: &RequestInit) -> Promise;
}

#[wasm_bindgen(module = "/src/wasm/js/attempt.js")]
extern "C" {
    /// See `js/attempt.js`: a signal that fires on the caller's, on a timeout
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

/// What came back: the status, the body as text, and `Retry-After` if sent.
pub(crate) struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The whole body, a JS string: it stays on the JS side for `JSON.parse`.
    pub body: JsValue,
    /// The raw `Retry-After` header.
    pub retry_after: Option<String>,
}

/// A request to send: method, absolute or page-relative URL, headers, body.
pub(crate) struct Outgoing<'a> {
    /// The HTTP method.
    pub method: Method,
    /// Where to send it.
    pub url: &'a str,
    /// The client's headers (the caller's, and the key in direct mode).
    pub headers: &'a [(String, String)],
    /// A JSON body (a JS string), for POST.
    pub body: Option<&'a JsValue>,
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

/// The caller's headers, then the protocol's: JSON is what we read, writes
/// carry the BFF's CSRF mark, and bodies are JSON.
fn request_headers(request: &Outgoing<'_>) -> Result<Headers, Error> {
    let headers = checked_headers(request.headers)?;
    let mut protocol = vec![("accept", "application/json")];
    if request.method != Method::Get {
        protocol.push((CSRF_HEADER, "1"));
    }
    if request.body.is_some() {
        protocol.push(("content-type", "application/json"));
    }
    for (name, value) in protocol {
        headers
            .set(name, value)
            .map_err(|_| Error::invalid_request("fetch refused a protocol header"))?;
    }
    Ok(headers)
}

/// Sends `request` once and reads the whole answer, within `call`'s timeout.
pub(crate) async fn attempt(request: &Outgoing<'_>, call: &CallOptions) -> Result<Answer, Error> {
    let init = RequestInit::new();
    init.set_method(request.method.as_str());
    init.set_headers(&request_headers(request)?.into());
    if let Some(body) = request.body {
        init.set_body(body);
    }
    let attempt = Attempt::new(call.signal.clone(), Some(call.timeout_ms));
    init.set_signal(Some(&attempt.signal()));
    let answer = exchange(request.url, &init, &attempt, call.timeout_ms).await;
    attempt.dispose();
    answer
}

/// Starts a fetch under `attempt`'s signal; the `Response` once its headers
/// are in (its body still to be read).
async fn start(
    url: &str,
    init: &RequestInit,
    attempt: &Attempt,
    timeout_ms: u32,
) -> Result<Response, Error> {
    match JsFuture::from(global_fetch(url, init)).await {
        Ok(value) => value.dyn_into().map_err(|_| {
            Error::new(
                ErrorKind::Network,
                "fetch resolved to something that is not a Response",
            )
        }),
        Err(reason) => Err(failure(
            attempt,
            timeout_ms,
            &reason,
            "could not reach the server",
        )),
    }
}

async fn exchange(
    url: &str,
    init: &RequestInit,
    attempt: &Attempt,
    timeout_ms: u32,
) -> Result<Answer, Error> {
    let response = start(url, init, attempt, timeout_ms).await?;
    read_answer(&response, attempt, timeout_ms).await
}

/// The whole answer of `response`: status, body text and `Retry-After`.
async fn read_answer(
    response: &Response,
    attempt: &Attempt,
    timeout_ms: u32,
) -> Result<Answer, Error> {
    let status = response.status();
    let retry_after = response.headers().get("retry-after").ok().flatten();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(reason) => Err(reason),
    };
    let body = match text {
        Ok(text) => text,
        Err(reason) => {
            let error = failure(
                attempt,
                timeout_ms,
                &reason,
                "the response body was cut off",
            );
            // A success whose body cannot be read cannot be decoded; an error
            // status still says what went wrong without its body.
            match (error.kind, (200..300).contains(&status)) {
                (ErrorKind::Network, true) => {
                    return Err(Error {
                        kind: ErrorKind::Decode,
                        ..error
                    })
                }
                (ErrorKind::Network, false) => JsValue::from_str(""),
                _ => return Err(error),
            }
        }
    };
    Ok(Answer {
        status,
        body,
        retry_after,
    })
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
