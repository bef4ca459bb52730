//! The body of a webhook delivery, as the sender POSTs it to a receiver.

use serde::{Deserialize, Serialize};

use super::webhook::WebhookEvent;

/// `{"event": "response.created", "timestamp": …, "data": {…}}`, signed by
/// `x-webhook-signature`. The payload stays raw JSON: receivers pass it on
/// (the BFF to browsers over SSE) and each event's payload may grow fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// Which event happened.
    pub event: WebhookEvent,
    /// When, as the sender wrote it (Unix seconds or ISO 8601).
    #[serde(default)]
    pub timestamp: serde_json::Value,
    /// The event's payload (for `response.*`, a [`super::ChatbotResponse`]).
    #[serde(default)]
    pub data: serde_json::Value,
}

impl WebhookDelivery {
    /// The chatbot the event concerns, when the payload names one
    /// (`data.chatbotId`): its cached reads are the ones that go stale.
    pub fn chatbot_id(&self) -> Option<&str> {
        self.data
            .get("chatbotId")
            .and_then(serde_json::Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_delivery_and_finds_its_chatbot() {
        let raw = r#"{"event":"response.created","timestamp":1725186600,
            "data":{"id":"64f8a2b3c1d4e5f6a7b8c9d1","chatbotId":"64f8a2b3c1d4e5f6a7b8c9d0"}}"#;
        let delivery: WebhookDelivery = serde_json::from_str(raw).unwrap();
        assert_eq!(delivery.event, WebhookEvent::ResponseCreated);
        assert_eq!(delivery.chatbot_id(), Some("64f8a2b3c1d4e5f6a7b8c9d0"));
    }
}
