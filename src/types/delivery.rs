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
//! here, and fields this version does not know are kept in [`extra`] and
//! written back, so a receiver passes on whatever Conferbot adds.
//!
//! [`extra`]: WebhookDelivery::extra

use serde::{Deserialize, Serialize};

use super::webhook::WebhookEvent;
use crate::id::ObjectId;

/// One delivery's body, signed by `x-webhook-signature`.
///
/// Serialized in the order of the reference's `response.created` example
/// (`event`, `chatSessionId`, `responseId`, `botId`, `visitorId`,
/// `timestamp`), absent fields left out, unknown fields after them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    /// Which event happened.
    pub event: WebhookEvent,
    /// The chat session (`sess_…`, not an object id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_session_id: Option<String>,
    /// The response (`response.*`), an object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    /// The chatbot, an object id (24 hex digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_id: Option<String>,
    /// The visitor (`visitor_…`); absent from `response.updated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_id: Option<String>,
    /// When the event was dispatched, ISO 8601 as the sender wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Fields this version does not know, kept and passed on.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
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
            extra: serde_json::Map::new(),
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
        assert_eq!(delivery.extra["channel"], "whatsapp");
        let back = serde_json::to_string(&delivery).unwrap();
        assert!(
            back.ends_with(r#""channel":"whatsapp","meta":{"n":1}}"#),
            "{back}"
        );
    }
}
