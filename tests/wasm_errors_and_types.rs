//! The wasm surface's errors and types, run in Node and in headless Chromium:
//! `ConferbotError` from JS's point of view, the TypeScript unions against the
//! core's names.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a test: a failed unwrap is a failed test
#![cfg(target_arch = "wasm32")]

use conferbot::wasm::{conferbot_error_class, ConferbotClient, TYPESCRIPT};
use conferbot::{ErrorKind, Plan, WebhookEvent};
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn field(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Every kind, listed by an exhaustive match so that a new kind fails to
/// compile here until the TypeScript union is checked for it too.
fn every_kind() -> Vec<ErrorKind> {
    use ErrorKind::*;
    let all = vec![
        InvalidRequest,
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        RateLimited,
        Server,
        Network,
        Timeout,
        Aborted,
        Decode,
    ];
    for kind in &all {
        match kind {
            InvalidRequest | BadRequest | Unauthorized | Forbidden | NotFound | RateLimited
            | Server | Network | Timeout | Aborted | Decode => {}
        }
    }
    all
}

#[wasm_bindgen_test]
fn a_refused_constructor_throws_a_conferbot_error_that_is_an_error() {
    let options = js_sys::JSON::parse(r#"{"timeoutMs": -5, "baseUrl": "http://x"}"#).unwrap();
    let thrown = ConferbotClient::new(options)
        .err()
        .expect("negative timeoutMs is refused");
    let class = conferbot_error_class();
    assert!(thrown.is_instance_of::<js_sys::Error>());
    assert!(thrown
        .dyn_ref::<js_sys::Object>()
        .is_some_and(|o| o.is_instance_of::<js_sys::Object>()));
    let instance_of = js_sys::Function::new_with_args("e, C", "return e instanceof C");
    assert_eq!(
        instance_of.call2(&JsValue::NULL, &thrown, &class).unwrap(),
        JsValue::TRUE
    );
    assert_eq!(field(&thrown, "name"), "ConferbotError");
    assert_eq!(field(&thrown, "kind"), "invalid_request");
    assert_eq!(field(&thrown, "status"), JsValue::NULL);
    assert_eq!(field(&thrown, "detail"), JsValue::NULL);
    assert_eq!(field(&thrown, "retryAfter"), JsValue::NULL);
    let message = field(&thrown, "message").as_string().unwrap_or_default();
    assert!(
        message.contains("timeoutMs must be an integer from 1 to"),
        "{message}"
    );
    assert!(field(&thrown, "stack").is_string());
}

#[wasm_bindgen_test]
fn users_can_construct_the_class_too() {
    let make = js_sys::Function::new_with_args(
        "C",
        "return new C('rate_limited', 'slow down', { status: 429, retryAfter: 7 })",
    );
    let error = make
        .call1(&JsValue::NULL, &conferbot_error_class())
        .unwrap();
    assert_eq!(field(&error, "kind"), "rate_limited");
    assert_eq!(field(&error, "status"), 429);
    assert_eq!(field(&error, "retryAfter"), 7);
    assert_eq!(field(&error, "detail"), JsValue::NULL);
    assert_eq!(field(&error, "message"), "slow down");
}

#[wasm_bindgen_test]
fn typescript_unions_name_exactly_the_cores_values() {
    let union = |name: &str| -> Vec<String> {
        let start = TYPESCRIPT
            .find(&format!("export type {name} ="))
            .expect(name);
        let rest = &TYPESCRIPT[start..];
        let end = rest.find(';').expect("union ends");
        rest[..end]
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    };
    let kinds: Vec<String> = every_kind().iter().map(|k| k.as_str().to_owned()).collect();
    assert_eq!(union("ConferbotErrorKind"), kinds);
    let plans: Vec<String> = Plan::KNOWN.iter().map(|p| p.as_str().to_owned()).collect();
    assert_eq!(union("Plan"), plans);
    let events: Vec<String> = WebhookEvent::KNOWN
        .iter()
        .map(|e| e.as_str().to_owned())
        .collect();
    assert_eq!(union("KnownWebhookEvent"), events);
}

#[wasm_bindgen_test]
fn typescript_has_no_any() {
    let words: Vec<&str> = TYPESCRIPT
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .collect();
    assert!(!words.contains(&"any"));
}
