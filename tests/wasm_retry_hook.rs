//! The `onRetry` hook of `ClientOptions` and `RequestOptions`, run in Node and
//! in headless Chromium against a scripted `fetch`: told before each wait with
//! the failed attempt, the wait and the error; a call's own hook replaces the
//! client's; a hook that throws or rejects never fails the call; a hook that is
//! not a function is refused before anything is sent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a test: a failed unwrap is a failed test
#![cfg(target_arch = "wasm32")]

use conferbot::wasm::ConferbotClient;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen(inline_js = r#"
// Answers calls from `script` in order (the last one repeats): { status, body, headers } or { fail }.
export function scriptFetch(script) {
  const fake = { calls: 0 };
  const original = globalThis.fetch;
  globalThis.fetch = () => {
    fake.calls += 1;
    const step = script.length > 1 ? script.shift() : script[0];
    if (step.fail) return Promise.reject(new TypeError(step.fail));
    return Promise.resolve(new Response(step.body, { status: step.status ?? 200, headers: step.headers ?? {} }));
  };
  fake.restore = () => { globalThis.fetch = original; };
  return fake;
}
// A hook that records what it is told, in the order told.
export function recorder() {
  const seen = [];
  const hook = (info) => {
    seen.push({ attempt: info.attempt, waitMs: info.waitMs, kind: info.error.kind,
                isError: info.error instanceof Error, name: info.error.name, keys: Object.keys(info).sort().join(",") });
  };
  return { seen, hook };
}
export function throwing() { return () => { throw new Error("the hook broke"); }; }
export function rejecting() { return async () => { throw new Error("the async hook broke"); }; }
export function json(text) { return JSON.parse(text); }
export function withHook(object, hook) { return { ...object, onRetry: hook }; }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = scriptFetch)]
    fn script_fetch(script: JsValue) -> JsValue;
    fn recorder() -> JsValue;
    fn throwing() -> JsValue;
    fn rejecting() -> JsValue;
    fn json(text: &str) -> JsValue;
    #[wasm_bindgen(js_name = withHook)]
    fn with_hook(object: JsValue, hook: &JsValue) -> JsValue;
}

const USAGE: &str = r#"{"data":{"month":"m","plan":"Pro","used":1,"limit":2,"remaining":1}}"#;

fn field(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// A scripted fetch, restored when dropped (also when a test fails).
struct Fake(JsValue);

impl Fake {
    /// 429 (`Retry-After: 0`), then a network failure, then the usage answer.
    fn flaky() -> Self {
        let body = js_sys::JSON::stringify(&JsValue::from_str(USAGE))
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        let script = format!(
            r#"[{{"status":429,"body":"{{}}","headers":{{"retry-after":"0"}}}},{{"fail":"connection reset"}},{{"body":{body}}}]"#
        );
        Self(script_fetch(json(&script)))
    }

    fn calls(&self) -> f64 {
        field(&self.0, "calls").as_f64().unwrap_or(-1.0)
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let restore: Function = field(&self.0, "restore").unchecked_into();
        let _ = restore.call0(&JsValue::NULL);
    }
}

fn seen(recorder: &JsValue) -> Vec<JsValue> {
    js_sys::Array::from(&field(recorder, "seen")).to_vec()
}

async fn resolve(promise: Promise) -> JsValue {
    JsFuture::from(promise).await.expect("the call resolves")
}

#[wasm_bindgen_test]
async fn the_clients_hook_is_told_each_wait_before_it_happens() {
    let fake = Fake::flaky();
    let record = recorder();
    let options = with_hook(
        json(r#"{"baseUrl": "http://bff.test", "maxRetries": 2}"#),
        &field(&record, "hook"),
    );
    let client = ConferbotClient::new(options).expect("valid options");
    let usage = resolve(client.get_usage(JsValue::UNDEFINED)).await;
    assert_eq!(field(&usage, "used"), 1);
    assert_eq!(fake.calls(), 3.0);
    let seen = seen(&record);
    assert_eq!(seen.len(), 2, "one call per wait");
    assert_eq!(field(&seen[0], "attempt"), 1);
    assert_eq!(field(&seen[0], "kind"), "rate_limited");
    assert_eq!(field(&seen[0], "waitMs"), 0, "Retry-After: 0");
    assert_eq!(field(&seen[1], "attempt"), 2);
    assert_eq!(field(&seen[1], "kind"), "network");
    let backoff = field(&seen[1], "waitMs").as_f64().unwrap_or(-1.0);
    assert!((0.0..=1_000.0).contains(&backoff), "backoff {backoff} ms");
    for info in &seen {
        assert_eq!(field(info, "isError"), true);
        assert_eq!(field(info, "name"), "ConferbotError");
        assert_eq!(field(info, "keys"), "attempt,error,waitMs");
    }
}

#[wasm_bindgen_test]
async fn a_calls_own_hook_replaces_the_clients_and_no_retry_means_no_call() {
    let fake = Fake::flaky();
    let (client_hook, call_hook) = (recorder(), recorder());
    let options = with_hook(
        json(r#"{"baseUrl": "http://bff.test", "maxRetries": 2}"#),
        &field(&client_hook, "hook"),
    );
    let client = ConferbotClient::new(options).expect("valid options");
    let opts = with_hook(json("{}"), &field(&call_hook, "hook"));
    resolve(client.get_usage(opts)).await;
    assert_eq!(fake.calls(), 3.0);
    assert_eq!(seen(&call_hook).len(), 2);
    assert_eq!(seen(&client_hook).len(), 0);
    drop(fake);

    let fake = Fake(script_fetch(json(
        r#"[{"status":404,"body":"{\"error\":\"Chatbot not found\"}"}]"#,
    )));
    let error =
        JsFuture::from(client.get_chatbot("64f8a2b3c1d4e5f6a7b8c9d0".into(), JsValue::UNDEFINED))
            .await
            .expect_err("404 rejects");
    assert_eq!(field(&error, "kind"), "not_found");
    assert_eq!(fake.calls(), 1.0);
    assert_eq!(seen(&client_hook).len(), 0, "nothing was retried");
}

#[wasm_bindgen_test]
async fn a_hook_that_throws_or_rejects_does_not_fail_the_call() {
    for hook in [throwing(), rejecting()] {
        let fake = Fake::flaky();
        let options = with_hook(
            json(r#"{"baseUrl": "http://bff.test", "maxRetries": 2}"#),
            &hook,
        );
        let client = ConferbotClient::new(options).expect("valid options");
        let usage = resolve(client.get_usage(JsValue::UNDEFINED)).await;
        assert_eq!(field(&usage, "plan"), "Pro");
        assert_eq!(fake.calls(), 3.0);
    }
}

#[wasm_bindgen_test]
async fn a_hook_that_is_not_a_function_is_refused_before_sending() {
    let refused = ConferbotClient::new(json(r#"{"baseUrl": "http://bff.test", "onRetry": 5}"#));
    let error = refused.err().expect("refused");
    assert_eq!(field(&error, "kind"), "invalid_request");
    assert_eq!(
        field(&error, "message"),
        "options.onRetry must be a function, got number"
    );

    let fake = Fake::flaky();
    let client = ConferbotClient::new(json(r#"{"baseUrl": "http://bff.test"}"#)).expect("valid");
    let error = JsFuture::from(client.get_usage(json(r#"{"onRetry": "log"}"#)))
        .await
        .expect_err("refused");
    assert_eq!(field(&error, "kind"), "invalid_request");
    assert_eq!(
        field(&error, "message"),
        "request options.onRetry must be a function, got string"
    );
    assert_eq!(fake.calls(), 0.0, "nothing was sent");
}
