//! `ConferbotClient` calls against a scripted `fetch`, run in Node and in
//! headless Chromium: page objects and iterators (decided by the paginator),
//! the headers each call sends, retries, timeouts, aborts, decode errors and
//! how answers are completed (defaults, normalised names) in place.
//! Network-free: no server, only `globalThis.fetch` replaced for each test.
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
// Answers calls from `script` in order (the last one repeats): each entry is
// { status, body, headers } or { fail: "message" } (a network error) or
// { hang: true } (never answers; honours the request's signal).
export function scriptFetch(script) {
  const fake = { calls: [] };
  const original = globalThis.fetch;
  globalThis.fetch = (url, init = {}) => {
    fake.calls.push({ url: String(url), method: init.method, body: init.body ?? null,
                      headers: Object.fromEntries(new Headers(init.headers).entries()) });
    const step = script.length > 1 ? script.shift() : script[0];
    const signal = init.signal;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new DOMException("aborted", "AbortError"));
      signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      if (step.hang) return;
      if (step.fail) return reject(new TypeError(step.fail));
      resolve(new Response(step.body, { status: step.status ?? 200, headers: step.headers ?? {} }));
    });
  };
  fake.restore = () => { globalThis.fetch = original; };
  return fake;
}
export function json(text) { return JSON.parse(text); }
export async function collect(iterable) {
  const items = [];
  for await (const item of iterable) items.push(item);
  return items;
}
export function call(object, method, ...args) { return object[method](...args); }
export function abortAfter(ms) { const c = new AbortController(); setTimeout(() => c.abort(), ms); return c.signal; }
export function abortedSignal() { const c = new AbortController(); c.abort(); return c.signal; }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = scriptFetch)]
    fn script_fetch(script: JsValue) -> JsValue;
    fn json(text: &str) -> JsValue;
    fn collect(iterable: &JsValue) -> Promise;
    fn call(object: &JsValue, method: &str) -> JsValue;
    #[wasm_bindgen(js_name = abortAfter)]
    fn abort_after(ms: u32) -> JsValue;
    #[wasm_bindgen(js_name = abortedSignal)]
    fn aborted_signal() -> JsValue;
}

const BOT: &str = "64f8a2b3c1d4e5f6a7b8c9d0";

fn field(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn at(value: &JsValue, path: &str) -> JsValue {
    path.split('.')
        .fold(value.clone(), |v, key| match key.parse::<u32>() {
            Ok(i) => Reflect::get_u32(&v, i).unwrap_or(JsValue::UNDEFINED),
            Err(_) => field(&v, key),
        })
}

/// A scripted fetch, restored when dropped (also when a test fails).
struct Fake(JsValue);

impl Fake {
    fn new(script: &str) -> Self {
        Self(script_fetch(json(script)))
    }
    fn calls(&self) -> u32 {
        js_sys::Array::from(&field(&self.0, "calls")).length()
    }
    fn call(&self, i: u32) -> JsValue {
        at(&self.0, &format!("calls.{i}"))
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let restore: Function = field(&self.0, "restore").unchecked_into();
        let _ = restore.call0(&JsValue::NULL);
    }
}

fn client(options: &str) -> ConferbotClient {
    ConferbotClient::new(json(options)).expect("valid options")
}

fn bff() -> ConferbotClient {
    client(r#"{"baseUrl": "http://bff.test/api/conferbot/", "maxRetries": 0}"#)
}

fn bots(range: std::ops::Range<u32>) -> String {
    let items: Vec<String> = range
        .map(|i| format!(r#"{{"id":"{i:024x}","name":"Bot {i}","status":"active","responseCount":{i},"createdAt":"c","updatedAt":"u"}}"#))
        .collect();
    items.join(",")
}

fn answers(range: std::ops::Range<u32>) -> String {
    let items: Vec<String> = range
        .map(|i| format!(r#"{{"id":"{i:024x}","chatbotId":"{BOT}","status":"completed","answers":{{"n":{i},"tags":["a"]}},"createdAt":"c","updatedAt":"u"}}"#))
        .collect();
    items.join(",")
}

fn page_answer(items: std::ops::Range<u32>, page: u32, total: u32, pages: u32) -> String {
    page_of(&bots(items), page, total, pages)
}

fn page_of(items: &str, page: u32, total: u32, pages: u32) -> String {
    let body =
        format!(r#"{{"data":[{items}],"total":{total},"page":{page},"totalPages":{pages}}}"#);
    format!(r#"{{"status":200,"body":{}}}"#, serde_json_string(&body))
}

fn serde_json_string(text: &str) -> String {
    js_sys::JSON::stringify(&JsValue::from_str(text))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

async fn resolve(promise: Promise) -> JsValue {
    JsFuture::from(promise).await.expect("the call resolves")
}

async fn reject(promise: Promise) -> JsValue {
    JsFuture::from(promise).await.expect_err("the call rejects")
}

#[wasm_bindgen_test]
async fn a_page_knows_its_totals_and_fetches_the_next_one() {
    let script = format!(
        "[{},{}]",
        page_answer(0..2, 1, 3, 2),
        page_answer(2..3, 2, 3, 2)
    );
    let fake = Fake::new(&script);
    let first = resolve(bff().list_chatbots(json(r#"{"limit": 2}"#), JsValue::UNDEFINED)).await;
    assert_eq!(
        at(&fake.call(0), "url"),
        "http://bff.test/api/conferbot/external/v1/chatbots?page=1&limit=2"
    );
    assert_eq!(at(&first, "data.length"), 2);
    assert_eq!(at(&first, "data.1.name"), "Bot 1");
    assert_eq!(at(&first, "data.1.responseCount"), 1);
    assert_eq!(
        (
            field(&first, "total"),
            field(&first, "page"),
            field(&first, "totalPages")
        ),
        (3.into(), 1.into(), 2.into())
    );
    assert_eq!(call(&first, "hasNextPage"), JsValue::TRUE);
    let second = resolve(call(&first, "getNextPage").unchecked_into()).await;
    assert_eq!(
        at(&fake.call(1), "url"),
        "http://bff.test/api/conferbot/external/v1/chatbots?page=2&limit=2"
    );
    assert_eq!(at(&second, "data.0.name"), "Bot 2");
    assert_eq!(call(&second, "hasNextPage"), JsValue::FALSE);
    let error = reject(call(&second, "getNextPage").unchecked_into()).await;
    assert_eq!(field(&error, "kind"), "invalid_request");
    assert_eq!(fake.calls(), 2, "no request for a page that does not exist");
}

#[wasm_bindgen_test]
async fn without_totals_a_full_page_means_more_and_the_page_is_the_one_asked_for() {
    let full = format!(r#"{{"data":[{}]}}"#, bots(0..2));
    let short = format!(r#"{{"data":[{}]}}"#, bots(2..3));
    let script = format!(
        r#"[{{"body":{}}},{{"body":{}}}]"#,
        serde_json_string(&full),
        serde_json_string(&short)
    );
    let _fake = Fake::new(&script);
    let first = resolve(bff().list_chatbots(json(r#"{"limit": 2}"#), JsValue::UNDEFINED)).await;
    assert_eq!(
        (
            field(&first, "total"),
            field(&first, "page"),
            field(&first, "totalPages")
        ),
        (JsValue::NULL, 1.into(), JsValue::NULL)
    );
    assert_eq!(call(&first, "hasNextPage"), JsValue::TRUE);
    let second = resolve(call(&first, "getNextPage").unchecked_into()).await;
    assert_eq!(field(&second, "page"), 2);
    assert_eq!(call(&second, "hasNextPage"), JsValue::FALSE);
}

#[wasm_bindgen_test]
async fn iterating_walks_every_page_in_order_then_stops() {
    let script = format!(
        "[{},{},{}]",
        page_answer(0..2, 1, 5, 3),
        page_answer(2..4, 2, 5, 3),
        page_answer(4..5, 3, 5, 3)
    );
    let fake = Fake::new(&script);
    let items = resolve(collect(
        &bff().chatbots(json(r#"{"limit": 2}"#), JsValue::UNDEFINED),
    ))
    .await;
    let names: Vec<String> = js_sys::Array::from(&items)
        .iter()
        .map(|b| field(&b, "name").as_string().unwrap_or_default())
        .collect();
    assert_eq!(names, ["Bot 0", "Bot 1", "Bot 2", "Bot 3", "Bot 4"]);
    assert_eq!(fake.calls(), 3);
    assert_eq!(
        at(&fake.call(2), "url"),
        "http://bff.test/api/conferbot/external/v1/chatbots?page=3&limit=2"
    );
}

#[wasm_bindgen_test]
async fn iterating_stops_when_the_server_repeats_a_page() {
    // A server that always answers page 1 as if more followed.
    let fake = Fake::new(&format!("[{}]", page_of(&answers(0..2), 1, 99, 50)));
    let items = resolve(collect(&bff().responses(
        BOT.into(),
        json(r#"{"limit": 2}"#),
        JsValue::UNDEFINED,
    )))
    .await;
    assert_eq!(
        fake.calls(),
        2,
        "asked for page 2, got page 1 again, stopped"
    );
    assert_eq!(js_sys::Array::from(&items).length(), 4);
    assert_eq!(at(&items, "1.answers.n"), 1);
    assert_eq!(at(&items, "1.answers.tags.0"), "a");
    assert_eq!(
        at(&fake.call(0), "url"),
        format!(
            "http://bff.test/api/conferbot/external/v1/chatbots/{BOT}/responses?page=1&limit=2"
        )
    );
}

#[wasm_bindgen_test]
async fn reads_send_accept_and_writes_send_the_csrf_mark_and_json() {
    let hook = r#"{"data":{"id":"64f8a2b3c1d4e5f6a7b8c9d1","url":"https://x.com/h","events":["response.created"],"secret":"whsec_1","createdAt":"c"}}"#;
    let script = format!(
        r#"[{{"body":{}}},{{"status":201,"body":{}}},{{"body":""}}]"#,
        serde_json_string(
            r#"{"data":{"month":"2025-01","plan":"enterprise","used":5,"limit":"unlimited","remaining":-1}}"#
        ),
        serde_json_string(hook)
    );
    let fake = Fake::new(&script);
    let direct = client(
        r#"{"apiKey": "sk_test", "dangerouslyAllowBrowser": true, "baseUrl": "http://api.test/api/v1", "headers": {"x-trace": "t1"}}"#,
    );
    let usage = resolve(direct.get_usage(JsValue::UNDEFINED)).await;
    assert_eq!(
        (
            field(&usage, "plan"),
            field(&usage, "limit"),
            field(&usage, "remaining")
        ),
        ("Enterprise".into(), JsValue::NULL, JsValue::NULL)
    );
    let get = fake.call(0);
    assert_eq!(at(&get, "method"), "GET");
    assert_eq!(at(&get, "headers.accept"), "application/json");
    assert_eq!(at(&get, "headers.x-api-key"), "sk_test");
    assert_eq!(at(&get, "headers.x-trace"), "t1");
    assert_eq!(at(&get, "headers.x-conferbot-csrf"), JsValue::UNDEFINED);
    let input = json(r#"{"url": "https://x.com/h", "events": ["response.created"]}"#);
    let created = resolve(direct.create_webhook(input, JsValue::UNDEFINED)).await;
    assert_eq!(
        (field(&created, "secret"), field(&created, "active")),
        ("whsec_1".into(), JsValue::TRUE)
    );
    let post = fake.call(1);
    assert_eq!(
        (at(&post, "method"), at(&post, "url")),
        (
            "POST".into(),
            "http://api.test/api/v1/external/v1/webhooks".into()
        )
    );
    assert_eq!(at(&post, "headers.x-conferbot-csrf"), "1");
    assert_eq!(at(&post, "headers.content-type"), "application/json");
    assert_eq!(
        at(&post, "body"),
        r#"{"url":"https://x.com/h","events":["response.created"]}"#
    );
    let deleted =
        resolve(direct.delete_webhook("64f8a2b3c1d4e5f6a7b8c9d1".into(), JsValue::UNDEFINED)).await;
    assert!(deleted.is_undefined());
    let delete = fake.call(2);
    assert_eq!(
        (
            at(&delete, "method"),
            at(&delete, "headers.x-conferbot-csrf")
        ),
        ("DELETE".into(), "1".into())
    );
}

#[wasm_bindgen_test]
async fn errors_carry_status_detail_and_retry_after() {
    let body =
        r#"{"error":"Rate limit exceeded","message":"You exceeded 60 requests in 1 minute."}"#;
    let script = format!(
        r#"[{{"status":429,"body":{},"headers":{{"retry-after":"120"}}}}]"#,
        serde_json_string(body)
    );
    let fake = Fake::new(&script);
    let c = client(r#"{"baseUrl": "http://bff.test", "maxRetries": 2}"#);
    let error = reject(c.get_usage(JsValue::UNDEFINED)).await;
    assert_eq!(
        fake.calls(),
        1,
        "Retry-After beyond the policy's cap is not waited for"
    );
    assert_eq!(field(&error, "kind"), "rate_limited");
    assert_eq!(field(&error, "status"), 429);
    assert_eq!(field(&error, "message"), "Rate limit exceeded");
    assert_eq!(
        field(&error, "detail"),
        "You exceeded 60 requests in 1 minute."
    );
    assert_eq!(field(&error, "retryAfter"), 120);
}

#[wasm_bindgen_test]
async fn a_429_is_retried_after_retry_after_and_a_failed_get_with_backoff() {
    let usage = serde_json_string(
        r#"{"data":{"month":"m","plan":"Pro","used":1,"limit":2,"remaining":1}}"#,
    );
    let script = format!(
        r#"[{{"status":429,"body":"{{}}","headers":{{"retry-after":"0"}}}},{{"fail":"connection reset"}},{{"body":{usage}}}]"#
    );
    let fake = Fake::new(&script);
    let c = client(r#"{"baseUrl": "http://bff.test", "maxRetries": 2}"#);
    let answer = resolve(c.get_usage(JsValue::UNDEFINED)).await;
    assert_eq!(field(&answer, "used"), 1);
    assert_eq!(fake.calls(), 3);
}

#[wasm_bindgen_test]
async fn a_post_whose_outcome_is_unknown_is_not_retried() {
    let fake = Fake::new(r#"[{"status":500,"body":"oops"}]"#);
    let c = client(r#"{"baseUrl": "http://bff.test", "maxRetries": 3}"#);
    let input = json(r#"{"url": "https://x.com/h", "events": ["response.created"]}"#);
    let error = reject(c.create_webhook(input, JsValue::UNDEFINED)).await;
    assert_eq!(
        (field(&error, "kind"), field(&error, "status")),
        ("server".into(), 500.into())
    );
    assert_eq!(field(&error, "message"), "HTTP 500 Internal Server Error");
    assert_eq!(fake.calls(), 1);
}

#[wasm_bindgen_test]
async fn failures_are_typed_network_decode_timeout_aborted() {
    let _fake = Fake::new(r#"[{"fail":"fetch failed"}]"#);
    let error = reject(bff().get_usage(JsValue::UNDEFINED)).await;
    assert_eq!(field(&error, "kind"), "network");
    assert!(field(&error, "message")
        .as_string()
        .unwrap_or_default()
        .contains("fetch failed"));
    drop(_fake);

    for (body, says) in [
        ("<html>", "it starts with \"<html>\""),
        (
            r#"{"data": {"month": 5}}"#,
            "(data.month must be a string, got number)",
        ),
        (r#"{"data": {"month": "m"}}"#, "(data.plan is missing)"),
        (
            r#"{"data":[{"id":"#,
            "the answer is not the documented JSON",
        ),
    ] {
        let _fake = Fake::new(&format!(r#"[{{"body":{}}}]"#, serde_json_string(body)));
        let error = reject(bff().get_usage(JsValue::UNDEFINED)).await;
        assert_eq!(field(&error, "kind"), "decode", "{body}");
        assert_eq!(field(&error, "status"), JsValue::NULL);
        let message = field(&error, "message").as_string().unwrap_or_default();
        assert!(message.contains(says), "{body}: {message}");
    }

    let fake = Fake::new(r#"[{"hang":true}]"#);
    let error = reject(bff().get_usage(json(r#"{"timeoutMs": 30}"#))).await;
    assert_eq!(field(&error, "kind"), "timeout");
    assert_eq!(field(&error, "message"), "no answer within 30 ms");
    drop(fake);

    let fake = Fake::new(r#"[{"hang":true}]"#);
    let opts = js_sys::Object::new();
    Reflect::set(&opts, &"signal".into(), &abort_after(20)).unwrap();
    let error = reject(bff().get_usage(opts.into())).await;
    assert_eq!(field(&error, "kind"), "aborted");
    assert_eq!(fake.calls(), 1);
    drop(fake);

    let fake = Fake::new(r#"[{"hang":true}]"#);
    let opts = js_sys::Object::new();
    Reflect::set(&opts, &"signal".into(), &aborted_signal()).unwrap();
    let error = reject(bff().list_chatbots(JsValue::UNDEFINED, opts.into())).await;
    assert_eq!(field(&error, "kind"), "aborted");
    assert_eq!(fake.calls(), 0, "an aborted signal sends nothing");
}

#[wasm_bindgen_test]
async fn an_abort_during_a_retry_wait_ends_the_call_at_once() {
    let fake = Fake::new(r#"[{"status":429,"body":"{}","headers":{"retry-after":"30"}}]"#);
    let c = client(r#"{"baseUrl": "http://bff.test", "maxRetries": 2}"#);
    let opts = js_sys::Object::new();
    Reflect::set(&opts, &"signal".into(), &abort_after(50)).unwrap();
    let started = js_sys::Date::now();
    let error = reject(c.get_usage(opts.into())).await;
    assert_eq!(field(&error, "kind"), "aborted");
    assert_eq!(fake.calls(), 1);
    assert!(
        js_sys::Date::now() - started < 10_000.0,
        "did not wait out Retry-After"
    );
}

#[wasm_bindgen_test]
async fn answers_are_completed_in_place_as_the_wire_types_read_them() {
    let hooks = r#"{"data":[{"id":"64f8a2b3c1d4e5f6a7b8c9d1","url":"https://x.com/h","events":["bot.renamed"],"secret":null,"extra":1}]}"#;
    let bot = r#"{"data":{"id":"64f8a2b3c1d4e5f6a7b8c9d0","name":"n","status":"s","createdAt":"c","updatedAt":"u"}}"#;
    let script = format!(
        r#"[{{"body":{}}},{{"body":{}}}]"#,
        serde_json_string(hooks),
        serde_json_string(bot)
    );
    let _fake = Fake::new(&script);
    let listed = resolve(bff().list_webhooks(JsValue::UNDEFINED)).await;
    let hook = at(&listed, "0");
    let has_secret = Reflect::has(&hook, &"secret".into()).unwrap_or(true);
    assert!(
        !has_secret,
        "a null secret is left out, as `secret?: string` says"
    );
    assert_eq!(field(&hook, "active"), JsValue::TRUE);
    assert_eq!(field(&hook, "createdAt"), "");
    assert_eq!(at(&hook, "events.0"), "bot.renamed");
    assert_eq!(field(&hook, "extra"), 1, "fields added later are kept");
    let chatbot = resolve(bff().get_chatbot(BOT.into(), JsValue::UNDEFINED)).await;
    assert_eq!(field(&chatbot, "responseCount"), 0);
}

#[wasm_bindgen(inline_js = r#"
export async function collectPages(page) {
  const numbers = [];
  for await (const p of page.iterPages()) numbers.push(p.page);
  return numbers;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = collectPages)]
    fn collect_pages(page: &JsValue) -> Promise;
}

#[wasm_bindgen_test]
async fn operations_that_return_nothing_resolve_on_any_2xx_whatever_the_body() {
    let id = "64f8a2b3c1d4e5f6a7b8c9d1";
    for step in [
        r#"{"status":200,"body":"{\"data\": {\"deleted\": true}}"}"#,
        r#"{"status":204,"body":null}"#,
        r#"{"status":200,"body":"not json at all"}"#,
        r#"{"status":202,"body":"{\"data\": [1, 2]}"}"#,
    ] {
        let fake = Fake::new(&format!("[{step}]"));
        let deleted = resolve(bff().delete_webhook(id.into(), JsValue::UNDEFINED)).await;
        assert!(deleted.is_undefined(), "{step}");
        assert_eq!(fake.calls(), 1, "{step}");
    }
    let _fake = Fake::new(r#"[{"status":404,"body":"{\"error\":\"Webhook not found\"}"}]"#);
    let error = reject(bff().delete_webhook(id.into(), JsValue::UNDEFINED)).await;
    assert_eq!(field(&error, "kind"), "not_found");
}

#[wasm_bindgen_test]
async fn a_list_calls_promise_iterates_every_item_and_pages_iterate_pages() {
    let script = format!(
        "[{},{},{},{},{},{}]",
        page_answer(0..2, 1, 5, 3),
        page_answer(2..4, 2, 5, 3),
        page_answer(4..5, 3, 5, 3),
        page_answer(0..2, 1, 5, 3),
        page_answer(2..4, 2, 5, 3),
        page_answer(4..5, 3, 5, 3)
    );
    let fake = Fake::new(&script);
    let promise = bff().list_chatbots(json(r#"{"limit": 2}"#), JsValue::UNDEFINED);
    let items = resolve(collect(&promise)).await;
    let names: Vec<String> = js_sys::Array::from(&items)
        .iter()
        .map(|b| field(&b, "name").as_string().unwrap_or_default())
        .collect();
    assert_eq!(names, ["Bot 0", "Bot 1", "Bot 2", "Bot 3", "Bot 4"]);
    assert_eq!(fake.calls(), 3, "one request per page");
    let first = resolve(promise).await;
    assert_eq!(
        field(&first, "page"),
        1,
        "the same promise still answers its first page"
    );
    let first = resolve(bff().list_chatbots(json(r#"{"limit": 2}"#), JsValue::UNDEFINED)).await;
    let numbers = resolve(collect_pages(&first)).await;
    assert_eq!(at(&numbers, "length"), 3);
    assert_eq!((at(&numbers, "0"), at(&numbers, "2")), (1.into(), 3.into()));
    assert_eq!(fake.calls(), 6);
}

#[wasm_bindgen_test]
async fn errors_carry_the_answers_headers_and_its_request_id() {
    let _fake = Fake::new(
        r#"[{"status":500,"body":"{\"error\":\"boom\"}","headers":{"x-request-id":"req_42","x-other":"1"}}]"#,
    );
    let error = reject(bff().get_usage(JsValue::UNDEFINED)).await;
    assert_eq!(field(&error, "requestId"), "req_42");
    let headers: web_sys::Headers = field(&error, "headers").unchecked_into();
    assert_eq!(headers.get("x-other").ok().flatten().as_deref(), Some("1"));
    drop(_fake);
    let _fake = Fake::new(r#"[{"fail":"connection refused"}]"#);
    let error = reject(bff().get_usage(JsValue::UNDEFINED)).await;
    assert_eq!(field(&error, "requestId"), JsValue::NULL);
    assert_eq!(
        field(&error, "headers"),
        JsValue::NULL,
        "no answer, no headers"
    );
}

#[wasm_bindgen_test]
async fn with_options_derives_a_client_with_other_defaults() {
    let base = client(
        r#"{"baseUrl": "http://bff.test/api/conferbot", "maxRetries": 0, "headers": {"x-a": "1", "x-b": "2"}}"#,
    );
    let derived = base
        .with_options(json(
            r#"{"baseUrl": "http://other.test/mount", "headers": {"x-b": "3"}}"#,
        ))
        .expect("valid options");
    let fake = Fake::new(&format!("[{}]", page_answer(0..1, 1, 1, 1)));
    resolve(derived.list_chatbots(JsValue::UNDEFINED, JsValue::UNDEFINED)).await;
    resolve(base.list_chatbots(JsValue::UNDEFINED, JsValue::UNDEFINED)).await;
    let (new, old) = (fake.call(0), fake.call(1));
    assert_eq!(
        at(&new, "url"),
        "http://other.test/mount/external/v1/chatbots?page=1&limit=20"
    );
    assert_eq!(
        (at(&new, "headers.x-a"), at(&new, "headers.x-b")),
        ("1".into(), "3".into())
    );
    assert_eq!(
        at(&old, "url"),
        "http://bff.test/api/conferbot/external/v1/chatbots?page=1&limit=20",
        "the original client keeps its own"
    );
    assert_eq!(at(&old, "headers.x-b"), "2");
    let refused = base
        .with_options(json(r#"{"timeoutMs": 0}"#))
        .err()
        .expect("checked");
    assert_eq!(field(&refused, "kind"), "invalid_request");
}
