//! Decoding of every wire type, as the BFF, the sandbox and the server half
//! decode answers and bodies natively (serde), checked against the wire
//! schema's tables (what the generated JS checker and the TypeScript types
//! promise).
//!
//! The input is one JSON body, tried as every form of answer, the error body,
//! a webhook delivery and a `createWebhook` body. Whatever decodes must:
//! - write back and decode to the same value (a round trip, idempotent);
//! - write back in the form its table describes (every required field, of
//!   its type; plans in their documented case; limits a count or `null`);
//! - for a delivery, agree with `missing_required_field` on what is missing;
//! - for a `createWebhook` body, validate the same after the round trip.
//!
//! And the error path (`Error::from_response`) never panics on any body.

#![no_main]

use conferbot::shape::{self, Form, EVENT_SHAPES};
use conferbot::types::{DeletedWebhook, Limit};
use conferbot::{
    ApiErrorBody, Chatbot, ChatbotResponse, DataEnvelope, Error, NewWebhook, Page, Usage, Webhook,
    WebhookDelivery,
};
use conferbot_fuzz::json_eq::json_eq;
use conferbot_fuzz::shape_oracle::{check_form, check_shape, event_names_round_trip};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let forms = Form::ALL;
    if let Some(page) = round_trip::<Page<Chatbot>>(data) {
        must(check_form(forms[0], &page), data);
    }
    if let Some(one) = round_trip::<DataEnvelope<Chatbot>>(data) {
        must(check_form(forms[1], &one), data);
    }
    if let Some(page) = round_trip::<Page<ChatbotResponse>>(data) {
        must(check_form(forms[2], &page), data);
    }
    if let Some(usage) = round_trip::<DataEnvelope<Usage>>(data) {
        must(check_form(forms[3], &usage), data);
    }
    if let Some(list) = round_trip::<DataEnvelope<Vec<Webhook>>>(data) {
        must(check_form(forms[4], &list), data);
        if let Ok(list) = serde_json::from_value::<DataEnvelope<Vec<Webhook>>>(list) {
            assert!(list.data.iter().all(|w| event_names_round_trip(&w.events)));
        }
    }
    if let Some(one) = round_trip::<DataEnvelope<Webhook>>(data) {
        must(check_form(forms[5], &one), data);
    }
    if let Some(body) = round_trip::<ApiErrorBody>(data) {
        must(check_shape(&shape::ERROR_BODY, &body), data);
    }
    round_trip::<DataEnvelope<DeletedWebhook>>(data);
    delivery(data);
    new_webhook(data);
    limits(data);

    // The error path reads any body and any Retry-After.
    let status = data.first().map_or(500, |b| 400 + u16::from(*b) % 200);
    let text = String::from_utf8_lossy(data);
    let err = Error::from_response(status, data, Some(&text));
    assert_eq!(err.status, Some(status));
    assert!(!err.message.is_empty());
    let _ = serde_json::to_vec(&err.to_body());
});

/// Decodes `data` as `T`; when it decodes, writes it back, decodes that
/// again and checks nothing changed. Returns what was written.
fn round_trip<T: DeserializeOwned + Serialize>(data: &[u8]) -> Option<Value> {
    let first: T = serde_json::from_slice(data).ok()?;
    let written = serde_json::to_vec(&first).expect("a decoded value writes");
    let second: T = serde_json::from_slice(&written).unwrap_or_else(|err| {
        panic!(
            "wrote {} which does not decode: {err}",
            String::from_utf8_lossy(&written)
        )
    });
    // A kept member's text may be a number no `Value` holds (`1.5e777`):
    // then the two writes must be the same bytes, and there is no `Value`
    // to check further.
    let (Ok(a), Ok(b)) = (serde_json::to_value(&first), serde_json::to_value(&second)) else {
        let again = serde_json::to_vec(&second).expect("a decoded value writes");
        assert_eq!(
            again,
            written,
            "not a round trip (from {})",
            String::from_utf8_lossy(data)
        );
        return None;
    };
    assert!(
        json_eq(&a, &b),
        "not a round trip: {a} then {b} (from {})",
        String::from_utf8_lossy(data)
    );
    Some(a)
}

fn must(result: Result<(), String>, data: &[u8]) {
    if let Err(why) = result {
        panic!("{why} (from {})", String::from_utf8_lossy(data));
    }
}

/// A delivery keeps what it does not know, and the event shapes' required
/// fields are missing exactly when `missing_required_field` says so.
fn delivery(data: &[u8]) {
    let Some(written) = round_trip::<WebhookDelivery>(data) else {
        return;
    };
    let Ok(delivery) = serde_json::from_value::<WebhookDelivery>(written.clone()) else {
        panic!("a written delivery decodes: {written}");
    };
    must(check_shape(&shape::DELIVERY, &written), data);
    let row = EVENT_SHAPES
        .iter()
        .find(|row| row.event.as_ref() == Some(&delivery.event));
    match (row, shape::missing_required_field(&delivery)) {
        (Some(row), None) => must(check_shape(row.data, &written), data),
        (Some(_), Some(name)) => assert!(
            !written.get(name).is_some_and(Value::is_string),
            "{name} said missing but written: {written}"
        ),
        (None, missing) => assert_eq!(missing, None, "no row, nothing required"),
    }
    // Ids are only ever read through validation.
    for id in [delivery.bot(), delivery.response()].into_iter().flatten() {
        assert!(conferbot::id::is_object_id(id.as_str()));
    }
}

/// A `createWebhook` body validates the same before and after a round trip
/// (the BFF forwards the re-written one).
fn new_webhook(data: &[u8]) {
    let Ok(hook) = serde_json::from_slice::<NewWebhook>(data) else {
        return;
    };
    let written = serde_json::to_vec(&hook).expect("writes");
    let again: NewWebhook = serde_json::from_slice(&written).expect("a written body decodes");
    assert_eq!(hook, again);
    assert_eq!(hook.validate().is_ok(), again.validate().is_ok());
}

/// The limit's readers accept any number or text.
fn limits(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(limit) = Limit::from_text(&text) {
        let back: Limit = serde_json::from_value(serde_json::to_value(limit).expect("writes"))
            .expect("a written limit decodes");
        assert_eq!(back, limit);
    }
    if let Some(bytes) = data.get(..8) {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(bytes);
        let n = f64::from_le_bytes(raw);
        let limit = Limit::from_number(n);
        assert_eq!(limit == Limit::Unlimited, !(n.is_finite() && n >= 0.0));
    }
}
