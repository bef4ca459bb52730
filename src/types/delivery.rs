//! The body of a webhook delivery, as Conferbot POSTs it to a receiver.
//!
//! The reference (`shared/reference/conferbot-webhooks.md`) documents a
//! **flat** body that names the event, the ids involved and a timestamp, and
//! never the response's content:
//!
//! ```json
//! {"event": "response.created", "chatSessionId": "sess_abc123def456",
//!  "responseId": "65a1b2c3d4e5f6a7b8c9d0e1", "botId": "64f8a2b3c1d4e5f6a7b8c9d0",
//!  "visitorId": "visitor_xyz789", "timestamp": "2024-12-15T09:30:00.000Z"}
//! ```
//!
//! `response.updated` carries the same ids without `visitorId`. The
//! `conversation.*` bodies are not printed in the reference; following its
//! notes, they are modelled as the same flat form (`event`, `chatSessionId`,
//! `botId`, `visitorId`, `timestamp`). Every field but `event` is optional
//! here, and fields this version does not know are kept in [`extra`] (their
//! JSON text as sent) and written back, so a receiver passes on whatever
//! Conferbot adds.
//!
//! [`extra`]: WebhookDelivery::extra

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use super::webhook::WebhookEvent;
use crate::id::ObjectId;

/// One delivery's body, signed by `x-webhook-signature`.
///
/// Serialized in the order of the reference's `response.created` example
/// (`event`, `chatSessionId`, `responseId`, `botId`, `visitorId`,
/// `timestamp`), absent fields left out, unknown fields after them.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    /// Which event happened.
    pub event: WebhookEvent,
    /// The chat session (`sess_…`, not an object id).
    pub chat_session_id: Option<String>,
    /// The response (`response.*`), an object id.
    pub response_id: Option<String>,
    /// The chatbot, an object id (24 hex digits).
    pub bot_id: Option<String>,
    /// The visitor (`visitor_…`); absent from `response.updated`.
    pub visitor_id: Option<String>,
    /// When the event was dispatched, ISO 8601 as the sender wrote it.
    pub timestamp: Option<String>,
    /// Fields this version does not know, kept and passed on as they came
    /// (in order, each value its JSON text). Decode deliveries from their
    /// JSON text (`from_slice`, `from_str`): a `serde_json::Value` has lost
    /// that text, and `from_value` cannot give it back.
    pub extra: Vec<(String, Box<RawValue>)>,
}

/// Equal when every member is, unknown ones by their JSON text.
impl PartialEq for WebhookDelivery {
    fn eq(&self, other: &Self) -> bool {
        let text = |d: &Self| -> Vec<(String, String)> {
            d.extra
                .iter()
                .map(|(k, v)| (k.clone(), v.get().to_owned()))
                .collect()
        };
        self.event == other.event
            && self.optional() == other.optional()
            && text(self) == text(other)
    }
}

/// The member naming the event, written first.
const EVENT: &str = "event";
/// The optional known members' names, in the order they are written.
const OPTIONAL: [&str; 5] = [
    "chatSessionId",
    "responseId",
    "botId",
    "visitorId",
    "timestamp",
];

// Written by hand rather than derived with `#[serde(flatten)]`, which
// buffers the whole body first (serde's `Content` machinery, several KiB of
// the npm server half's wasm) to split the known members from the rest.
impl Serialize for WebhookDelivery {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(EVENT, &self.event)?;
        for (name, value) in OPTIONAL.iter().zip(self.optional()) {
            if let Some(value) = value {
                map.serialize_entry(name, value)?;
            }
        }
        for (name, value) in &self.extra {
            map.serialize_entry(name, value.as_ref())?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for WebhookDelivery {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = WebhookDelivery;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a webhook delivery (a JSON object with an event)")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<WebhookDelivery, M::Error> {
                let mut event: Option<WebhookEvent> = None;
                let mut optional: [Option<String>; 5] = Default::default();
                let mut extra = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    if name == EVENT {
                        if event.is_some() {
                            return Err(de::Error::duplicate_field(EVENT));
                        }
                        event = Some(map.next_value()?);
                        continue;
                    }
                    let known = OPTIONAL
                        .iter()
                        .zip(optional.iter_mut())
                        .find(|(n, _)| **n == name);
                    match known {
                        Some((field, slot)) => {
                            if slot.is_some() {
                                return Err(de::Error::duplicate_field(field));
                            }
                            *slot = map.next_value()?;
                        }
                        None => extra.push((name, map.next_value()?)),
                    }
                }
                let event = event.ok_or_else(|| de::Error::missing_field(EVENT))?;
                let [chat_session_id, response_id, bot_id, visitor_id, timestamp] = optional;
                Ok(WebhookDelivery {
                    event,
                    chat_session_id,
                    response_id,
                    bot_id,
                    visitor_id,
                    timestamp,
                    extra,
                })
            }
        }
        deserializer.deserialize_map(Members)
    }
}

impl WebhookDelivery {
    /// A delivery of `event` with no ids yet, stamped `timestamp` (ISO 8601).
    pub fn new(event: WebhookEvent, timestamp: impl Into<String>) -> Self {
        Self {
            event,
            chat_session_id: None,
            response_id: None,
            bot_id: None,
            visitor_id: None,
            timestamp: Some(timestamp.into()),
            extra: Vec::new(),
        }
    }

    /// The optional known members, in the order of [`OPTIONAL`].
    fn optional(&self) -> [&Option<String>; 5] {
        [
            &self.chat_session_id,
            &self.response_id,
            &self.bot_id,
            &self.visitor_id,
            &self.timestamp,
        ]
    }

    /// The JSON text of the unknown member `name`, when the delivery had it.
    pub fn extra_json(&self, name: &str) -> Option<&str> {
        self.extra
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.get())
    }

    /// Whether the member `name` is present and a JSON string: the known
    /// ones by their slot (`event` always is), unknown ones by their text.
    /// Read from the members themselves, never through a
    /// `serde_json::Value`, which cannot hold every number a delivery may
    /// carry (`1.5e777` is JSON, and out of a `Value`'s range).
    pub fn has_text(&self, name: &str) -> bool {
        if name == EVENT {
            return true;
        }
        match OPTIONAL.iter().position(|known| *known == name) {
            Some(index) => self.optional().get(index).is_some_and(|v| v.is_some()),
            None => self
                .extra_json(name)
                .is_some_and(|text| text.starts_with('"')),
        }
    }

    /// The chatbot the event concerns, when `botId` is a valid object id:
    /// its cached reads are the ones the event changes.
    pub fn bot(&self) -> Option<ObjectId> {
        self.bot_id
            .as_deref()
            .and_then(|id| ObjectId::parse(id, "botId").ok())
    }

    /// The response the event concerns, when `responseId` is a valid object id.
    pub fn response(&self) -> Option<ObjectId> {
        self.response_id
            .as_deref()
            .and_then(|id| ObjectId::parse(id, "responseId").ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's `response.created` example, as printed there.
    const CREATED: &str = r#"{
  "event": "response.created",
  "chatSessionId": "sess_abc123def456",
  "responseId": "65a1b2c3d4e5f6a7b8c9d0e1",
  "botId": "64f8a2b3c1d4e5f6a7b8c9d0",
  "visitorId": "visitor_xyz789",
  "timestamp": "2024-12-15T09:30:00.000Z"
}"#;

    /// `pretty` without its layout, keys kept in order (serde_json's own map
    /// would sort them).
    fn minified(pretty: &str) -> String {
        let compact: String = pretty.lines().map(str::trim).collect::<String>();
        let compact = compact.replace("\": ", "\":");
        let (a, b): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(pretty).unwrap(),
            serde_json::from_str(&compact).unwrap(),
        );
        assert_eq!(a, b, "minifying changed the value");
        compact
    }

    #[test]
    fn the_references_response_created_example_round_trips_byte_for_byte() {
        let delivery: WebhookDelivery = serde_json::from_str(CREATED).unwrap();
        assert_eq!(delivery.event, WebhookEvent::ResponseCreated);
        assert_eq!(
            delivery.chat_session_id.as_deref(),
            Some("sess_abc123def456")
        );
        assert_eq!(
            delivery.response().map(|id| id.as_str().to_owned()),
            Some("65a1b2c3d4e5f6a7b8c9d0e1".to_owned())
        );
        assert_eq!(
            delivery.bot().map(|id| id.as_str().to_owned()),
            Some("64f8a2b3c1d4e5f6a7b8c9d0".to_owned())
        );
        assert_eq!(delivery.visitor_id.as_deref(), Some("visitor_xyz789"));
        assert_eq!(
            delivery.timestamp.as_deref(),
            Some("2024-12-15T09:30:00.000Z")
        );
        assert!(delivery.extra.is_empty());
        assert_eq!(serde_json::to_string(&delivery).unwrap(), minified(CREATED));
    }

    #[test]
    fn the_references_response_updated_example_decodes_without_a_visitor() {
        let raw = r#"{"event": "response.updated", "responseId": "65a1b2c3d4e5f6a7b8c9d0e1", "botId": "64f8a2b3c1d4e5f6a7b8c9d0", "chatSessionId": "sess_abc123def456", "timestamp": "2024-12-15T09:30:00.000Z"}"#;
        let delivery: WebhookDelivery = serde_json::from_str(raw).unwrap();
        assert_eq!(delivery.event, WebhookEvent::ResponseUpdated);
        assert_eq!(delivery.visitor_id, None);
        assert!(delivery.bot().is_some() && delivery.response().is_some());
        let back: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&delivery).unwrap()).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(raw).unwrap()
        );
    }

    #[test]
    fn unknown_fields_are_kept_and_bad_ids_name_no_chatbot() {
        let raw = r#"{"event":"conversation.started","chatSessionId":"sess_1","botId":"not-an-id","visitorId":"visitor_2","timestamp":"2024-12-15T09:30:00.000Z","channel":"whatsapp","meta":{"n":1}}"#;
        let delivery: WebhookDelivery = serde_json::from_str(raw).unwrap();
        assert_eq!(delivery.event, WebhookEvent::ConversationStarted);
        assert_eq!(delivery.bot(), None, "an invalid botId names no chatbot");
        assert_eq!(delivery.extra_json("channel"), Some("\"whatsapp\""));
        assert_eq!(delivery.extra_json("meta"), Some(r#"{"n":1}"#));
        let back = serde_json::to_string(&delivery).unwrap();
        assert!(
            back.ends_with(r#""channel":"whatsapp","meta":{"n":1}}"#),
            "{back}"
        );
        for bad in [
            r#"{"botId":"64f8a2b3c1d4e5f6a7b8c9d0"}"#,
            r#"{"event":"response.created","event":"response.updated"}"#,
            r#"{"event":"response.created","botId":1}"#,
            r#"["response.created"]"#,
        ] {
            assert!(
                serde_json::from_str::<WebhookDelivery>(bad).is_err(),
                "{bad}"
            );
        }
        let nulls: WebhookDelivery =
            serde_json::from_str(r#"{"event":"response.created","botId":null}"#).unwrap();
        assert_eq!(nulls.bot_id, None);
    }
}
