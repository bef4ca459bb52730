//! `ConferbotClient` options and argument checks, run in Node and in headless
//! Chromium: what is refused, with which message, and that nothing is sent.
//! Network-free: `fetch` is replaced by a counter that fails the test if called.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a test: a failed unwrap is a failed test
#![cfg(target_arch = "wasm32")]

use conferbot::wasm::ConferbotClient;
use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen(inline_js = r#"
export function isBrowser() { return typeof window !== "undefined" || typeof document !== "undefined"; }
// Runs `body` with a `window` global, so that Node can play a page.
export function withFakeWindow(body) {
  if (typeof window !== "undefined") return body();
  globalThis.window = globalThis;
  try { return body(); } finally { delete globalThis.window; }
}
// Runs `body` with the global `name` defined as workers have it (Node plays a
// browser worker with `importScripts`, workerd with `WorkerGlobalScope`).
export function withFakeGlobal(name, body) {
  if (name in globalThis) return body();
  globalThis[name] = function () {};
  try { return body(); } finally { delete globalThis[name]; }
}
export function countFetches() {
  const counter = { count: 0 };
  const original = globalThis.fetch;
  globalThis.fetch = () => { counter.count += 1; return Promise.reject(new TypeError("no network in this test")); };
  counter.restore = () => { globalThis.fetch = original; };
  return counter;
}
export function json(text) { return JSON.parse(text); }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = isBrowser)]
    fn is_browser() -> bool;
    #[wasm_bindgen(js_name = withFakeWindow, catch)]
    fn with_fake_window(body: &js_sys::Function) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = withFakeGlobal, catch)]
    fn with_fake_global(name: &str, body: &js_sys::Function) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = countFetches)]
    fn count_fetches() -> JsValue;
    fn json(text: &str) -> JsValue;
}

fn field(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn refusal(options: &str) -> (String, String) {
    match ConferbotClient::new(json(options)) {
        Ok(_) => panic!("{options} was accepted"),
        Err(e) => (
            field(&e, "kind").as_string().unwrap_or_default(),
            field(&e, "message").as_string().unwrap_or_default(),
        ),
    }
}

#[wasm_bindgen_test]
fn bad_option_types_are_refused_with_the_field_named() {
    let cases = [
        (
            r#"{"baseUrl": "http://x", "timeoutMs": -1}"#,
            "options.timeoutMs must be an integer from 1 to 2147483647, got -1",
        ),
        (
            r#"{"baseUrl": "http://x", "timeoutMs": "5"}"#,
            "options.timeoutMs must be a number, got string",
        ),
        (
            r#"{"baseUrl": "http://x", "timeoutMs": 1.5}"#,
            "options.timeoutMs must be an integer",
        ),
        (
            r#"{"baseUrl": "http://x", "maxRetries": 11}"#,
            "options.maxRetries must be an integer from 0 to 10, got 11",
        ),
        (
            r#"{"baseUrl": 5}"#,
            "options.baseUrl must be a string, got number",
        ),
        (
            r#"{"baseUrl": "http://x", "headers": ["a"]}"#,
            "options.headers must be an object of string values, got an array",
        ),
        (
            r#"{"baseUrl": "http://x", "headers": {"x-n": 1}}"#,
            "options.headers must be an object of string values, got number",
        ),
        (
            r#"{"baseUrl": "http://x", "headers": {"bad name": "v"}}"#,
            "header \"bad name\" is not a valid HTTP header",
        ),
        (r#"{"apiKey": ""}"#, "options.apiKey must not be empty"),
        (
            r#"{"baseUrl": "http://x", "dangerouslyAllowBrowser": "yes"}"#,
            "must be a boolean",
        ),
        (
            r#"{"baseUrl": "http://a b"}"#,
            "options.baseUrl must be a URL without spaces",
        ),
        ("[]", "options must be an object, got an array"),
        ("7", "options must be an object, got number"),
    ];
    for (options, expected) in cases {
        let (kind, message) = refusal(options);
        assert_eq!(kind, "invalid_request", "{options}");
        assert!(message.contains(expected), "{options}: {message}");
    }
}

#[wasm_bindgen_test]
fn a_browser_refuses_an_api_key_unless_told_dangerously() {
    let attempt = |options: &'static str| {
        let body =
            Closure::once_into_js(move || ConferbotClient::new(json(options)).map(JsValue::from));
        with_fake_window(body.unchecked_ref())
    };
    for options in [r#"{"apiKey": "k"}"#, r#"{"headers": {"X-Api-Key": "k"}}"#] {
        let thrown = attempt(options).expect_err(options);
        assert_eq!(field(&thrown, "kind"), "invalid_request");
        let message = field(&thrown, "message").as_string().unwrap_or_default();
        assert!(
            message.contains("refusing to send an API key from a browser"),
            "{message}"
        );
        assert!(message.contains("dangerouslyAllowBrowser"), "{message}");
    }
    assert!(attempt(r#"{"apiKey": "k", "dangerouslyAllowBrowser": true}"#).is_ok());
    assert!(
        attempt("{}").is_ok(),
        "the BFF mount is the browser default"
    );
}

#[wasm_bindgen_test]
fn a_browser_worker_refuses_an_api_key_and_cloudflare_workerd_does_not() {
    if is_browser() {
        return; // a page: the window test above covers it
    }
    let attempt = |global: &str| {
        let body = Closure::once_into_js(|| {
            ConferbotClient::new(json(r#"{"apiKey": "k"}"#)).map(JsValue::from)
        });
        with_fake_global(global, body.unchecked_ref())
    };
    let thrown = attempt("importScripts").expect_err("a browser worker took an API key");
    assert_eq!(field(&thrown, "kind"), "invalid_request");
    // workerd defines WorkerGlobalScope, and is a server.
    assert!(attempt("WorkerGlobalScope").is_ok());
}

#[wasm_bindgen_test]
fn outside_a_browser_a_base_url_or_a_key_is_required() {
    if is_browser() {
        assert!(ConferbotClient::new(JsValue::UNDEFINED).is_ok());
        assert!(ConferbotClient::new(json(r#"{"baseUrl": "/bff"}"#)).is_ok());
        return;
    }
    let (kind, message) = refusal("{}");
    assert_eq!(kind, "invalid_request");
    assert!(message.contains("pass baseUrl"), "{message}");
    assert!(message.contains("or apiKey"), "{message}");
    assert!(ConferbotClient::new(JsValue::UNDEFINED).is_err());
    let (_, message) = refusal(r#"{"baseUrl": "/api/conferbot"}"#);
    assert!(message.contains("absolute http(s) URL"), "{message}");
    assert!(ConferbotClient::new(json(r#"{"apiKey": "k"}"#)).is_ok());
    assert!(
        ConferbotClient::new(json(r#"{"baseUrl": "HTTP://127.0.0.1:1/api/conferbot/"}"#)).is_ok()
    );
}

async fn rejection(promise: Promise) -> (String, String) {
    match JsFuture::from(promise).await {
        Ok(_) => panic!("resolved"),
        Err(e) => (
            field(&e, "kind").as_string().unwrap_or_default(),
            field(&e, "message").as_string().unwrap_or_default(),
        ),
    }
}

#[wasm_bindgen_test]
async fn bad_arguments_reject_before_anything_is_sent() {
    let counter = count_fetches();
    let client =
        ConferbotClient::new(json(r#"{"baseUrl": "http://127.0.0.1:1/api/conferbot"}"#)).unwrap();
    let bot = JsValue::from_str("64f8a2b3c1d4e5f6a7b8c9d0");
    let none = JsValue::UNDEFINED;
    let cases: Vec<(Promise, &str)> = vec![
        (
            client.list_chatbots(json(r#"{"page": 0}"#), none.clone()),
            "page must be an integer from 1",
        ),
        (
            client.list_chatbots(json(r#"{"limit": 101}"#), none.clone()),
            "limit must be an integer from 1 to 100 (default 20), got 101",
        ),
        (
            client.list_chatbots(json(r#"{"limit": 1.5}"#), none.clone()),
            "got 1.5",
        ),
        (
            client.list_chatbots(json(r#"{"limit": "20"}"#), none.clone()),
            "params.limit must be a number, got string",
        ),
        (
            client.list_chatbots(none.clone(), json(r#"{"timeoutMs": -1}"#)),
            "request options.timeoutMs must be an integer",
        ),
        (
            client.list_chatbots(none.clone(), json(r#"{"signal": {}}"#)),
            "request options.signal must be an AbortSignal",
        ),
        (
            client.get_chatbot("../usage".into(), none.clone()),
            "chatbot id must be 24 hexadecimal digits",
        ),
        (
            client.get_chatbot(JsValue::from(5), none.clone()),
            "chatbot id must be a string, got number",
        ),
        (
            client.list_responses("xyz".into(), none.clone(), none.clone()),
            "chatbot id must be 24",
        ),
        (
            client.list_responses(bot.clone(), json(r#"{"page": -1}"#), none.clone()),
            "page must be",
        ),
        (
            client.delete_webhook(JsValue::UNDEFINED, none.clone()),
            "webhook id must be a string, got undefined",
        ),
        (
            client.create_webhook(
                json(r#"{"url": "https://x.com", "events": ["response.deleted"]}"#),
                none.clone(),
            ),
            "unknown webhook event \"response.deleted\"",
        ),
        (
            client.create_webhook(
                json(r#"{"url": "ftp://x.com", "events": ["response.created"]}"#),
                none.clone(),
            ),
            "must start with https:// or http://",
        ),
        (
            client.create_webhook(
                json(r#"{"url": "https://x.com", "events": "response.created"}"#),
                none.clone(),
            ),
            "webhook.events must be an array",
        ),
        (
            client.create_webhook(none.clone(), none.clone()),
            "url is required",
        ),
        (
            client.get_usage(json(r#"{"maxRetries": -1}"#)),
            "maxRetries must be an integer from 0 to 10",
        ),
    ];
    for (promise, expected) in cases {
        let (kind, message) = rejection(promise).await;
        assert_eq!(kind, "invalid_request", "{expected}");
        assert!(message.contains(expected), "{expected}: {message}");
    }
    // The iterators reject their first step the same way.
    let items = client.chatbots(json(r#"{"limit": 0}"#), none.clone());
    let iterator =
        js_sys::Function::new_with_args("it", "return it[Symbol.asyncIterator]().next()")
            .call1(&JsValue::NULL, &items)
            .unwrap();
    let (kind, _) = rejection(iterator.unchecked_into()).await;
    assert_eq!(kind, "invalid_request");
    assert_eq!(field(&counter, "count"), 0, "nothing may be sent");
    let restore: js_sys::Function = field(&counter, "restore").unchecked_into();
    restore.call0(&JsValue::NULL).unwrap();
}
