//! The tables against the serde types (the same fields, in the order serde
//! writes them), and the generated files against the tables (current).
//! What the generated checker does with bodies is tested in wasm, against
//! serde, by `tests/wasm_wire_agreement.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests

use serde::Serialize;
use serde_json::Value;

use super::events::{CONVERSATION, RESPONSE_CREATED, RESPONSE_UPDATED};
use super::*;
use crate::types::{ChatbotResponse, Limit, Usage, Webhook, WebhookDelivery};
use crate::{ApiErrorBody, Chatbot, Plan, WebhookEvent};

/// The keys serde writes for `value`, in order (serde_json's `preserve_order`
/// is off, so they are read from the text).
fn keys_written<T: Serialize>(value: &T) -> Vec<String> {
    let text = serde_json::to_string(value).unwrap();
    let Value::Object(map) = serde_json::from_str(&text).unwrap() else {
        panic!("{text} is not an object");
    };
    let mut keys: Vec<String> = map.keys().cloned().collect();
    keys.sort_by_key(|k| text.find(&format!("\"{k}\":")));
    keys
}

fn names(shape: &Shape) -> Vec<String> {
    shape.fields.iter().map(|f| f.name.to_owned()).collect()
}

#[test]
fn every_table_names_its_serde_types_fields_in_order() {
    let bot = Chatbot {
        id: "i".into(),
        name: "n".into(),
        status: "s".into(),
        response_count: 1,
        created_at: "c".into(),
        updated_at: "u".into(),
    };
    assert_eq!(keys_written(&bot), names(&CHATBOT));
    let response = ChatbotResponse {
        id: "i".into(),
        chatbot_id: "b".into(),
        status: "s".into(),
        answers: serde_json::Map::new(),
        created_at: "c".into(),
        updated_at: "u".into(),
    };
    assert_eq!(keys_written(&response), names(&CHATBOT_RESPONSE));
    let usage = Usage {
        month: "m".into(),
        plan: Plan::Pro,
        used: 1,
        limit: Limit::Calls(2),
        remaining: Limit::Calls(1),
    };
    assert_eq!(keys_written(&usage), names(&USAGE));
    let hook = Webhook {
        id: "i".into(),
        url: "u".into(),
        events: vec![WebhookEvent::ResponseCreated],
        active: true,
        secret: Some("s".into()),
        created_at: "c".into(),
    };
    assert_eq!(keys_written(&hook), names(&WEBHOOK));
    assert_eq!(
        keys_written(&ApiErrorBody::with_message("e", "m")),
        names(&ERROR_BODY)
    );
    let mut delivery = WebhookDelivery::new(WebhookEvent::ResponseCreated, "t");
    delivery.chat_session_id = Some("s".into());
    delivery.response_id = Some("r".into());
    delivery.bot_id = Some("b".into());
    delivery.visitor_id = Some("v".into());
    assert_eq!(keys_written(&delivery), names(&DELIVERY));
    let sorted = |shape: &Shape| {
        let mut names = names(shape);
        names.sort();
        names
    };
    assert_eq!(sorted(&RESPONSE_CREATED), sorted(&DELIVERY));
    for (shape, left_out) in [
        (&RESPONSE_UPDATED, "visitorId"),
        (&CONVERSATION, "responseId"),
    ] {
        let expected: Vec<String> = sorted(&DELIVERY)
            .into_iter()
            .filter(|n| n != left_out)
            .collect();
        assert_eq!(sorted(shape), expected, "{}", shape.name);
    }
}

#[test]
fn the_events_are_the_documented_ones_and_resync() {
    let events: Vec<Option<WebhookEvent>> = EVENT_SHAPES.iter().map(|e| e.event.clone()).collect();
    let mut expected: Vec<Option<WebhookEvent>> =
        WebhookEvent::KNOWN.into_iter().map(Some).collect();
    expected.push(None);
    assert_eq!(events, expected);
}

#[test]
fn forms_are_numbered_by_their_place() {
    for (i, form) in Form::ALL.iter().enumerate() {
        assert_eq!(form.index() as usize, i, "{}", form.shape().name);
    }
}

/// The committed generated files, as the wasm build includes them.
const WIRE_JS: &str = include_str!("../wasm/js/wire.js");
const WIRE_DTS: &str = include_str!("../wasm/wire.d.ts");

#[test]
fn the_generated_files_are_current() {
    let stale = "is stale: run `cargo xtask dist` (it writes it from src/shape/) and commit it";
    assert!(WIRE_JS == javascript(), "src/wasm/js/wire.js {stale}");
    assert!(WIRE_DTS == typescript(), "src/wasm/wire.d.ts {stale}");
}

#[test]
fn the_generated_typescript_never_says_any() {
    let text = typescript();
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .collect();
    assert!(!words.contains(&"any"));
}

#[test]
fn a_delivery_missing_a_documented_id_is_named() {
    let parse = |raw: &str| serde_json::from_str::<WebhookDelivery>(raw).unwrap();
    let created = r#"{"event":"response.created","chatSessionId":"s","responseId":"r","botId":"b","visitorId":"v","timestamp":"t"}"#;
    assert_eq!(missing_required_field(&parse(created)), None);
    let no_visitor = r#"{"event":"response.created","chatSessionId":"s","responseId":"r","botId":"b","timestamp":"t"}"#;
    assert_eq!(
        missing_required_field(&parse(no_visitor)),
        Some("visitorId")
    );
    let updated = r#"{"event":"response.updated","chatSessionId":"s","responseId":"r","botId":"b","timestamp":"t"}"#;
    assert_eq!(missing_required_field(&parse(updated)), None);
    let conversation = r#"{"event":"conversation.started"}"#;
    assert_eq!(
        missing_required_field(&parse(conversation)),
        None,
        "its ids are optional"
    );
    let unknown = r#"{"event":"bot.renamed"}"#;
    assert_eq!(missing_required_field(&parse(unknown)), None);
}

/// Found by `cargo xtask fuzz` (target `wire_decode`): a number out of a
/// `serde_json::Value`'s range in an unknown member made the check convert
/// nothing and say nothing was missing.
#[test]
fn a_delivery_with_a_number_no_value_holds_is_still_checked() {
    let parse = |raw: &str| serde_json::from_str::<WebhookDelivery>(raw).unwrap();
    let huge = r#"{"event":"response.created","chatSessionId":"s","responseId":"r","botId":"b","timestamp":"t","meta":{"n":1.5e777}}"#;
    let delivery = parse(huge);
    assert!(
        serde_json::to_value(&delivery).is_err(),
        "no Value holds it"
    );
    assert_eq!(missing_required_field(&delivery), Some("visitorId"));
    let whole = r#"{"event":"response.created","chatSessionId":"s","responseId":"r","botId":"b","visitorId":"v","timestamp":"t","meta":{"n":1.5e777}}"#;
    assert_eq!(missing_required_field(&parse(whole)), None);
    // An unknown member counts as text only when it is a JSON string.
    let delivery = parse(r#"{"event":"bot.renamed","name":"x","n":1,"o":{"a":"b"}}"#);
    assert!(delivery.has_text("name"));
    assert!(!delivery.has_text("n"));
    assert!(!delivery.has_text("o"));
    assert!(!delivery.has_text("absent"));
    assert!(delivery.has_text("event"));
}
