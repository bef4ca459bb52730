//! Live events: what the BFF's stream (`GET {mount}/events`, Server-Sent
//! Events) carries, typed.
//!
//! Each SSE event is one accepted webhook delivery: `event:` the webhook
//! event, `id:` its place in the BFF's log (sent back as `Last-Event-ID` on
//! reconnection), `data:` the delivery body as JSON. One more name,
//! [`RESYNC_EVENT`], says that events were missed that the BFF no longer
//! keeps: whoever shows data should load it again.

use crate::sse::SseEvent;
use crate::types::WebhookEvent;

pub use crate::protocol::bff::RESYNC_EVENT;

/// One live event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferbotEvent {
    /// Its id on the stream (`""` when the BFF gave none).
    pub id: String,
    /// Which event: a webhook event, or `Other("resync")`; names this version
    /// does not know are kept.
    pub event: WebhookEvent,
    /// The `data:` as received: the flat delivery body (`{"event", "botId",
    /// "responseId", "chatSessionId", "visitorId", "timestamp"}`, see
    /// [`crate::WebhookDelivery`]), or the resync notice.
    pub payload: String,
}

impl ConferbotEvent {
    /// Whether this is the BFF's [`RESYNC_EVENT`] rather than a delivery.
    pub fn is_resync(&self) -> bool {
        self.event.as_str() == RESYNC_EVENT
    }
}

impl From<SseEvent> for ConferbotEvent {
    fn from(sse: SseEvent) -> Self {
        Self {
            id: sse.id,
            event: WebhookEvent::from_name(&sse.event),
            payload: sse.data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::SseParser;
    use crate::WebhookDelivery;

    #[test]
    fn types_the_bffs_events() {
        let mut parser = SseParser::new();
        parser.feed_str("retry: 3000\n\nid: 12\nevent: response.created\ndata: {\"event\":\"response.created\",\"chatSessionId\":\"sess_1\",\"responseId\":\"65a1b2c3d4e5f6a7b8c9d0e1\",\"botId\":\"64f8a2b3c1d4e5f6a7b8c9d0\",\"visitorId\":\"visitor_1\",\"timestamp\":\"2024-12-15T09:30:00.000Z\"}\n\nevent: resync\ndata: {\"reason\":\"missed\"}\n\nid: 13\nevent: bot.renamed\ndata: {}\n\n");
        let events: Vec<ConferbotEvent> = std::iter::from_fn(|| parser.next_event())
            .map(ConferbotEvent::from)
            .collect();
        let [created, resync, other] = events.as_slice() else {
            panic!("three events: {events:?}");
        };
        assert_eq!(
            (created.id.as_str(), &created.event),
            ("12", &WebhookEvent::ResponseCreated)
        );
        assert!(!created.is_resync());
        let delivery: WebhookDelivery = serde_json::from_str(&created.payload).unwrap();
        assert_eq!(delivery.bot_id.as_deref(), Some("64f8a2b3c1d4e5f6a7b8c9d0"));
        assert!(resync.is_resync());
        assert_eq!(resync.id, "12", "the resync notice has no id of its own");
        assert_eq!(other.event, WebhookEvent::Other("bot.renamed".into()));
    }
}
