//! The generated checker (`src/wasm/js/wire.js`, written from the tables of
//! `conferbot::shape`) and the serde types must agree: for every body here,
//! both accept it and produce the same JSON on the documented fields, or both
//! refuse it. Run in Node and in headless Chromium, where the checker runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a test: a failed unwrap is a failed test
#![cfg(target_arch = "wasm32")]

use conferbot::shape::{Form, Shape, CHATBOT, CHATBOT_RESPONSE, USAGE, WEBHOOK};
use conferbot::types::{Chatbot, ChatbotResponse, DataEnvelope, Page, Usage, Webhook};
use conferbot::wasm::{check_answer, check_event, error_body};
use conferbot::{ApiErrorBody, Error, ErrorKind};
use conferbot::{ConferbotEvent, WebhookDelivery, WebhookEvent};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

/// A JS value as serde_json reads it.
fn value(js: &JsValue) -> Value {
    let text = js_sys::JSON::stringify(js)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// `value` with only the fields `shape` names (of each element, for an
/// array): what the serde types keep.
fn documented(value: Value, shape: &Shape) -> Value {
    match value {
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| documented(v, shape)).collect())
        }
        Value::Object(mut map) => {
            map.retain(|key, _| shape.fields.iter().any(|field| field.name == key));
            Value::Object(map)
        }
        other => other,
    }
}

fn compare(
    body: &str,
    shape: &Shape,
    by_serde: Result<Value, String>,
    by_shape: Result<Value, Error>,
) {
    match (by_serde, by_shape) {
        (Ok(a), Ok(b)) => assert_eq!(a, documented(b, shape), "{body}"),
        (Err(_), Err(e)) => assert_eq!(e.kind, ErrorKind::Decode, "{body}"),
        (a, b) => panic!("{body}: serde {a:?}, shape {b:?}"),
    }
}

fn checked(body: &str, form: Form) -> Result<Value, Error> {
    check_answer(body, form).map(|js| value(&js))
}

/// `{"data": {…}}` of `T`, read both ways.
fn agree_one<T: DeserializeOwned + Serialize>(shape: &'static Shape, body: &str) {
    let by_serde = serde_json::from_str::<DataEnvelope<T>>(body)
        .map(|envelope| serde_json::to_value(envelope.data).unwrap_or_default())
        .map_err(|e| e.to_string());
    compare(body, shape, by_serde, checked(body, Form::Data(shape)));
}

/// `{"data": [{…}]}` of `T`, read both ways.
fn agree_list<T: DeserializeOwned + Serialize>(shape: &'static Shape, body: &str) {
    let by_serde = serde_json::from_str::<DataEnvelope<Vec<T>>>(body)
        .map(|envelope| serde_json::to_value(envelope.data).unwrap_or_default())
        .map_err(|e| e.to_string());
    compare(body, shape, by_serde, checked(body, Form::DataList(shape)));
}

/// A list page of `T`, read both ways: items, then totals.
fn agree_page<T: DeserializeOwned + Serialize>(shape: &'static Shape, body: &str) {
    let by_serde = serde_json::from_str::<Page<T>>(body).map_err(|e| e.to_string());
    let by_shape = checked(body, Form::Page(shape));
    match (by_serde, by_shape) {
        (Ok(a), Ok(b)) => {
            let items = documented(b["data"].clone(), shape);
            assert_eq!(serde_json::to_value(&a.data).ok(), Some(items), "{body}");
            let number = |name: &str| b.get(name).and_then(Value::as_u64);
            assert_eq!(a.total, number("total"), "{body}");
            assert_eq!(a.page.map(u64::from), number("page"), "{body}");
            assert_eq!(a.total_pages.map(u64::from), number("totalPages"), "{body}");
        }
        (Err(_), Err(e)) => assert_eq!(e.kind, ErrorKind::Decode, "{body}"),
        (a, b) => panic!("{body}: serde {:?}, shape {:?}", a.is_ok(), b),
    }
}

fn parsed(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"))
}

const BOT: &str =
    r#""id":"64f8a2b3c1d4e5f6a7b8c9d0","name":"Customer Support Bot","status":"active""#;

#[wasm_bindgen_test]
fn chatbots_and_pages() {
    let guide = "{\n\"data\": [\n{\n\"id\": \"64f8a2b3c1d4e5f6a7b8c9d0\",\n\"name\": \"Customer Support Bot\",\n\"status\": \"active\",\n\"responseCount\": 12847,\n\"createdAt\": \"2024-09-01T10:30:00.000Z\",\n\"updatedAt\": \"2024-12-15T14:22:00.000Z\"\n}\n]\n}";
    agree_page::<Chatbot>(&CHATBOT, guide);
    for item in [
        format!(r#"{{{BOT},"responseCount":3,"createdAt":"c","updatedAt":"u"}}"#),
        format!(r#"{{{BOT},"createdAt":"c","updatedAt":"u","avatar":{{"url":"x"}}}}"#),
        format!(r#"{{{BOT},"responseCount":1.5,"createdAt":"c","updatedAt":"u"}}"#),
        format!(r#"{{{BOT},"responseCount":-1,"createdAt":"c","updatedAt":"u"}}"#),
        format!(r#"{{{BOT},"responseCount":"7","createdAt":"c","updatedAt":"u"}}"#),
        format!(r#"{{{BOT},"createdAt":"c"}}"#),
        format!(r#"{{{BOT},"createdAt":null,"updatedAt":"u"}}"#),
        r#"{"id":5,"name":"n","status":"s","createdAt":"c","updatedAt":"u"}"#.to_owned(),
        r#"["not","an","object"]"#.to_owned(),
        "null".to_owned(),
    ] {
        for tail in ["", r#","total":137,"page":2,"totalPages":7"#] {
            agree_page::<Chatbot>(&CHATBOT, &format!(r#"{{"data":[{item}]{tail}}}"#));
        }
        agree_one::<Chatbot>(&CHATBOT, &format!(r#"{{"data":{item}}}"#));
    }
    for body in [
        r#"{"data":[],"total":null,"page":null,"totalPages":null}"#,
        r#"{"data":[],"total":0,"page":1,"totalPages":0,"extra":true}"#,
        r#"{"data":[],"page":1.5}"#,
        r#"{"data":[],"total":-1}"#,
        r#"{"data":[],"totalPages":4294967296}"#,
        r#"{"data":[],"totalPages":4294967295}"#,
        r#"{"data":[],"total":"137"}"#,
        r#"{"data":{}}"#,
        r#"{"data":null}"#,
        r#"{"items":[]}"#,
        "[]",
        "42",
    ] {
        agree_page::<Chatbot>(&CHATBOT, body);
    }
}

#[wasm_bindgen_test]
fn responses_with_answers_of_any_kind() {
    let head = r#""id":"64f8a2b3c1d4e5f6a7b8c9d1","chatbotId":"64f8a2b3c1d4e5f6a7b8c9d0""#;
    for rest in [
        r#","status":"completed","answers":{"name":"Ada","rating":5,"tags":["a"],"x":null},"createdAt":"c","updatedAt":"u""#,
        r#","createdAt":"c""#,
        r#","answers":[],"createdAt":"c""#,
        r#","answers":null,"createdAt":"c""#,
        r#","status":null,"createdAt":"c""#,
        "",
    ] {
        agree_page::<ChatbotResponse>(
            &CHATBOT_RESPONSE,
            &format!(r#"{{"data":[{{{head}{rest}}}]}}"#),
        );
    }
}

#[wasm_bindgen_test]
fn usage_in_every_spelling_of_a_limit() {
    for (plan, limit, remaining) in [
        ("\"Starter\"", "10000", "8577"),
        ("\"enterprise\"", "null", "null"),
        ("\"ENTERPRISE\"", "-1", "-1"),
        ("\"Enterprise\"", "\"unlimited\"", "\"Unlimited\""),
        ("\"Growth\"", "10.7", "\" 12 \""),
        ("\"Pro\"", "\"lots\"", "1"),
        ("\"Pro\"", "true", "1"),
        ("\"Pro\"", "[1]", "1"),
        ("5", "1", "1"),
        ("null", "1", "1"),
    ] {
        let body = format!(
            r#"{{"data":{{"month":"2025-01","plan":{plan},"used":1423,"limit":{limit},"remaining":{remaining}}}}}"#
        );
        agree_one::<Usage>(&USAGE, &body);
    }
    for body in [
        r#"{"data":{"month":"2025-01","plan":"Enterprise","used":5}}"#,
        r#"{"data":{"month":"2025-01","plan":"Pro","used":-5}}"#,
        r#"{"data":{"month":"2025-01","plan":"Pro"}}"#,
        r#"{"data":{"plan":"Pro","used":1}}"#,
        "{\n\"data\": {\n\"month\": \"2025-01\",\n\"plan\": \"Starter\",\n\"used\": 1423,\n\"limit\": 10000,\n\"remaining\": 8577\n}\n}",
    ] {
        agree_one::<Usage>(&USAGE, body);
    }
}

#[wasm_bindgen_test]
fn webhooks_keep_unknown_events_and_default_what_is_absent() {
    let head = r#""id":"64f8a2b3c1d4e5f6a7b8c9d0","url":"https://x.com/h""#;
    let hooks = [
        r#","events":["response.created","bot.deleted"],"active":false,"secret":"whsec_1","createdAt":"c""#,
        r#","events":[]"#,
        r#","events":["response.created"],"secret":null"#,
        r#","events":["response.created"],"secret":5"#,
        r#","events":[5]"#,
        r#","events":"response.created""#,
        r#","events":["response.created"],"active":"yes""#,
        "",
    ];
    for rest in hooks {
        agree_one::<Webhook>(&WEBHOOK, &format!(r#"{{"data":{{{head}{rest}}}}}"#));
        agree_list::<Webhook>(&WEBHOOK, &format!(r#"{{"data":[{{{head}{rest}}}]}}"#));
    }
    agree_list::<Webhook>(&WEBHOOK, r#"{"data":[]}"#);
    agree_list::<Webhook>(&WEBHOOK, r#"{"data":{}}"#);
}

#[wasm_bindgen_test]
fn error_bodies_read_as_serde_reads_them() {
    for body in [
        r#"{"error": "Rate limit exceeded", "message": "You exceeded 60 requests in 1 minute."}"#,
        "{\n\"error\": \"Invalid or missing API key\"\n}",
        r#"{"error":"x","message":null,"extra":1}"#,
        r#"{"error":"x","message":5}"#,
        r#"{"error":null}"#,
        r#"{"message":"only"}"#,
        r#""text""#,
        "null",
    ] {
        let by_serde = serde_json::from_str::<ApiErrorBody>(body).ok();
        assert_eq!(error_body(&JsValue::from_str(body)), by_serde, "{body}");
    }
}

#[wasm_bindgen_test]
fn errors_name_the_place_and_the_type() {
    let why = |body: &str, form: Form| {
        let message = checked(body, form)
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        let start = message.find(" (").map_or(0, |i| i + 2);
        let end = message.find("); it starts with").unwrap_or(message.len());
        message[start..end].to_owned()
    };
    assert_eq!(
        why(
            r#"{"data":[{"id":"a","name":"n","status":"s","createdAt":"c","updatedAt":"u"},{"id":"b","name":7}]}"#,
            Form::Page(&CHATBOT)
        ),
        "data[1].name must be a string, got number"
    );
    assert_eq!(
        why(r#"{"data":{"month":"m","used":1}}"#, Form::Data(&USAGE)),
        "data.plan is missing"
    );
    assert_eq!(
        why("[]", Form::Page(&CHATBOT)),
        "the answer must be an object, got an array"
    );
}

#[wasm_bindgen_test]
fn fields_the_shape_does_not_name_are_kept_and_the_rest_completed_in_place() {
    let body = parsed(
        r#"{"data":{"month":"m","plan":"enterprise","used":1,"limit":"unlimited","extra":{"a":1}}}"#,
    );
    let usage = checked(&body.to_string(), Form::Data(&USAGE)).ok();
    let expected = parsed(
        r#"{"month":"m","plan":"Enterprise","used":1,"limit":null,"remaining":null,"extra":{"a":1}}"#,
    );
    assert_eq!(usage, Some(expected));
    let hook = checked(
        r#"{"data":{"id":"i","url":"u","events":[],"secret":null}}"#,
        Form::Data(&WEBHOOK),
    );
    assert_eq!(
        hook.ok(),
        Some(parsed(
            r#"{"id":"i","url":"u","events":[],"active":true,"createdAt":""}"#
        )),
        "a null secret is left out, as serde writes it"
    );
}

fn event(name: &str, payload: &str) -> Result<Value, Error> {
    let event = ConferbotEvent {
        id: "1".into(),
        event: WebhookEvent::from_name(name),
        payload: payload.into(),
    };
    check_event(&event).map(|js| value(&js))
}

#[wasm_bindgen_test]
fn flat_deliveries_agree_and_keep_what_they_do_not_name() {
    for body in [
        r#"{"event":"response.created","chatSessionId":"sess_abc123def456","responseId":"65a1b2c3d4e5f6a7b8c9d0e1","botId":"64f8a2b3c1d4e5f6a7b8c9d0","visitorId":"visitor_xyz789","timestamp":"2024-12-15T09:30:00.000Z"}"#,
        r#"{"event":"response.updated","responseId":"65a1b2c3d4e5f6a7b8c9d0e1","botId":"64f8a2b3c1d4e5f6a7b8c9d0","chatSessionId":"sess_abc123def456","timestamp":"2024-12-15T09:30:00.000Z"}"#,
        r#"{"event":"conversation.started","chatSessionId":"sess_1","botId":"64f8a2b3c1d4e5f6a7b8c9d0","visitorId":"visitor_1","timestamp":"2024-12-15T09:30:00.000Z","channel":"web"}"#,
        r#"{"event":"conversation.completed","chatSessionId":"sess_1"}"#,
        r#"{"event":"bot.renamed"}"#,
    ] {
        let by_serde = serde_json::from_str::<WebhookDelivery>(body)
            .map(|delivery| serde_json::to_value(delivery).unwrap_or_default())
            .map_err(|e| e.to_string());
        let name = parsed(body)["event"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let checked = event(&name, body).map(|e| e["data"].clone());
        assert_eq!(
            checked.ok(),
            by_serde.ok(),
            "{body}: the checker and serde disagree"
        );
    }
    let unknown = event("bot.renamed", r#"{"event":"bot.renamed","timestamp":"t"}"#).unwrap();
    assert_eq!(
        (unknown["type"].as_str(), unknown["name"].as_str()),
        (Some("unknown"), Some("bot.renamed"))
    );
    assert_eq!(unknown["timestamp"], "t");
    for (name, body) in [
        ("x", r#"{"event":"x","botId":1}"#),
        ("x", r#"{"event":"x","timestamp":1725186600}"#),
        ("x", r#"{"botId":"64f8a2b3c1d4e5f6a7b8c9d0"}"#),
        ("x", "[]"),
        // The printed events must carry their documented ids.
        (
            "response.created",
            r#"{"event":"response.created","botId":"64f8a2b3c1d4e5f6a7b8c9d0","timestamp":"t"}"#,
        ),
        (
            "response.updated",
            r#"{"event":"response.updated","responseId":"r","chatSessionId":"s","timestamp":"t"}"#,
        ),
    ] {
        assert!(event(name, body).is_err(), "{body}");
    }
}
