//! The shape checker and the serde types must agree: for every body here,
//! both accept it and produce the same JSON, or both refuse it.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::*;
use crate::error::{ApiErrorBody, ErrorKind};
use crate::types::{Chatbot, ChatbotResponse, DataEnvelope, DeletedWebhook, Page, Usage, Webhook};

impl JsonTree for Value {
    type Key = &'static str;

    fn key(name: &'static str) -> Self::Key {
        name
    }
    fn field(&self, key: &Self::Key) -> Option<Self> {
        self.as_object()?.get(*key).cloned()
    }
    fn is_null(&self) -> bool {
        self.is_null()
    }
    fn is_string(&self) -> bool {
        self.is_string()
    }
    fn is_object(&self) -> bool {
        self.is_object()
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }
    fn text(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }
    fn items(&self) -> Option<Vec<Self>> {
        self.as_array().cloned()
    }
    fn type_name(&self) -> String {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "an array",
            Value::Object(_) => "object",
        }
        .to_owned()
    }
    fn set(&mut self, key: &Self::Key, value: Self) {
        if let Value::Object(map) = self {
            map.insert((*key).to_owned(), value);
        }
    }
    fn remove(&mut self, key: &Self::Key) {
        if let Value::Object(map) = self {
            map.remove(*key);
        }
    }
    fn put_items(&mut self, items: Vec<Self>) {
        *self = Value::Array(items);
    }
    fn new_object() -> Self {
        Value::Object(Map::new())
    }
    fn from_text(text: &str) -> Self {
        Value::from(text)
    }
    fn from_count(n: u64) -> Self {
        Value::from(n)
    }
    fn from_flag(flag: bool) -> Self {
        Value::Bool(flag)
    }
    fn null() -> Self {
        Value::Null
    }
}

/// `value` with only the fields `shape` names (of each element, for an
/// array): what the serde types keep.
fn documented(value: Value, shape: &Shape) -> Value {
    match value {
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| documented(v, shape)).collect())
        }
        Value::Object(mut map) => {
            map.retain(|key, _| shape.fields.iter().any(|(name, _)| name == key));
            Value::Object(map)
        }
        other => other,
    }
}

fn parsed(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"))
}

fn compare(
    body: &str,
    shape: &Shape,
    by_serde: Result<Value, String>,
    by_shape: Result<Value, crate::Error>,
) {
    match (by_serde, by_shape) {
        (Ok(a), Ok(b)) => assert_eq!(a, documented(b, shape), "{body}"),
        (Err(_), Err(e)) => assert_eq!(e.kind, ErrorKind::Decode, "{body}"),
        (a, b) => panic!("{body}: serde {a:?}, shape {b:?}"),
    }
}

/// `{"data": {…}}` of `T`, read both ways.
fn agree_one<T: DeserializeOwned + Serialize>(shape: &Shape, body: &str) {
    let by_serde = serde_json::from_str::<DataEnvelope<T>>(body)
        .map(|envelope| serde_json::to_value(envelope.data).unwrap_or_default())
        .map_err(|e| e.to_string());
    compare(body, shape, by_serde, data(&parsed(body), shape));
}

/// `{"data": [{…}]}` of `T`, read both ways.
fn agree_list<T: DeserializeOwned + Serialize>(shape: &Shape, body: &str) {
    let by_serde = serde_json::from_str::<DataEnvelope<Vec<T>>>(body)
        .map(|envelope| serde_json::to_value(envelope.data).unwrap_or_default())
        .map_err(|e| e.to_string());
    compare(body, shape, by_serde, data_list(&parsed(body), shape));
}

/// A list page of `T`, read both ways: items, then totals.
fn agree_page<T: DeserializeOwned + Serialize>(shape: &Shape, body: &str) {
    let by_serde = serde_json::from_str::<Page<T>>(body).map_err(|e| e.to_string());
    let by_shape = page(&parsed(body), shape);
    let totals = |p: &Page<()>| (p.data.len(), p.total, p.page, p.total_pages);
    match (by_serde, by_shape) {
        (Ok(a), Ok((items, b))) => {
            let items = documented(items, shape);
            assert_eq!(serde_json::to_value(&a.data).ok(), Some(items), "{body}");
            let a_totals = (a.data.len(), a.total, a.page, a.total_pages);
            assert_eq!(a_totals, totals(&b), "{body}");
        }
        (Err(_), Err(e)) => assert_eq!(e.kind, ErrorKind::Decode, "{body}"),
        (a, b) => panic!(
            "{body}: serde {:?}, shape {:?}",
            a.is_ok(),
            b.map(|(_, p)| totals(&p))
        ),
    }
}

const BOT: &str =
    r#""id":"64f8a2b3c1d4e5f6a7b8c9d0","name":"Customer Support Bot","status":"active""#;

#[test]
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

#[test]
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

#[test]
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

#[test]
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
    for body in [
        r#"{"data":{"id":"64f8a2b3c1d4e5f6a7b8c9d0","deleted":true}}"#,
        r#"{"data":{"id":"64f8a2b3c1d4e5f6a7b8c9d0"}}"#,
        r#"{"data":{"id":"64f8a2b3c1d4e5f6a7b8c9d0","deleted":"yes"}}"#,
    ] {
        agree_one::<DeletedWebhook>(&DELETED_WEBHOOK, body);
    }
}

#[test]
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
        assert_eq!(error_body(&parsed(body)), by_serde, "{body}");
    }
}

#[test]
fn errors_name_the_place_and_the_type() {
    let body = parsed(
        r#"{"data":[{"id":"a","name":"n","status":"s","createdAt":"c","updatedAt":"u"},{"id":"b","name":7}]}"#,
    );
    let error = page(&body, &CHATBOT).err().map(|e| e.message);
    assert_eq!(
        error.as_deref(),
        Some("data[1].name must be a string, got number")
    );
    let error = data(&parsed(r#"{"data":{"month":"m","used":1}}"#), &USAGE)
        .err()
        .map(|e| e.message);
    assert_eq!(error.as_deref(), Some("data.plan is missing"));
    let error = page(&parsed("[]"), &CHATBOT).err().map(|e| e.message);
    assert_eq!(
        error.as_deref(),
        Some("the answer must be an object, got an array")
    );
}

#[test]
fn flat_deliveries_agree_and_keep_what_they_do_not_name() {
    for body in [
        r#"{"event":"response.created","chatSessionId":"sess_abc123def456","responseId":"65a1b2c3d4e5f6a7b8c9d0e1","botId":"64f8a2b3c1d4e5f6a7b8c9d0","visitorId":"visitor_xyz789","timestamp":"2024-12-15T09:30:00.000Z"}"#,
        r#"{"event":"response.updated","responseId":"65a1b2c3d4e5f6a7b8c9d0e1","botId":"64f8a2b3c1d4e5f6a7b8c9d0","chatSessionId":"sess_abc123def456","timestamp":"2024-12-15T09:30:00.000Z"}"#,
        r#"{"event":"conversation.started","chatSessionId":"sess_1","botId":"64f8a2b3c1d4e5f6a7b8c9d0","visitorId":"visitor_1","timestamp":"2024-12-15T09:30:00.000Z","channel":"web"}"#,
        r#"{"event":"bot.renamed"}"#,
    ] {
        let by_serde = serde_json::from_str::<crate::WebhookDelivery>(body)
            .map(|delivery| serde_json::to_value(delivery).unwrap_or_default())
            .map_err(|e| e.to_string());
        let checked = object(parsed(body), &DELIVERY);
        assert_eq!(
            checked.as_ref().ok(),
            by_serde.as_ref().ok(),
            "{body}: the checker and serde disagree"
        );
    }
    for body in [
        r#"{"event":"x","botId":1}"#,
        r#"{"event":"x","timestamp":1725186600}"#,
        r#"{"botId":"64f8a2b3c1d4e5f6a7b8c9d0"}"#,
        "[]",
    ] {
        assert!(object(parsed(body), &DELIVERY).is_err(), "{body}");
    }
}

#[test]
fn fields_the_shape_does_not_name_are_kept_and_the_rest_completed_in_place() {
    let body = parsed(
        r#"{"data":{"month":"m","plan":"enterprise","used":1,"limit":"unlimited","extra":{"a":1}}}"#,
    );
    let usage = data(&body, &USAGE).ok();
    let expected = parsed(
        r#"{"month":"m","plan":"Enterprise","used":1,"limit":null,"remaining":null,"extra":{"a":1}}"#,
    );
    assert_eq!(usage, Some(expected));
    let hook = data(
        &parsed(r#"{"data":{"id":"i","url":"u","events":[],"secret":null}}"#),
        &WEBHOOK,
    );
    assert_eq!(
        hook.ok(),
        Some(parsed(
            r#"{"id":"i","url":"u","events":[],"active":true,"createdAt":""}"#
        )),
        "a null secret is left out, as serde writes it"
    );
}
