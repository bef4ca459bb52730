//! How answers and events are written into Redis: small JSON documents, so
//! that `redis-cli` shows something a person can read.

use std::sync::Arc;

use axum::http::StatusCode;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::events::LiveEvent;
use crate::upstream::UpstreamAnswer;

/// An upstream answer as cached, and as a leader hands it to followers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireAnswer {
    /// The HTTP status.
    pub status: u16,
    /// `Retry-After` in seconds, when there was one.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// The JSON body, as text.
    pub body: String,
}

impl WireAnswer {
    /// Encodes `answer` (its body is JSON, so UTF-8).
    pub fn from_answer(answer: &UpstreamAnswer) -> Self {
        Self {
            status: answer.status.as_u16(),
            retry_after: answer.retry_after,
            body: String::from_utf8_lossy(&answer.body).into_owned(),
        }
    }

    /// The answer again; `None` when the status is not one.
    pub fn into_answer(self) -> Option<UpstreamAnswer> {
        Some(UpstreamAnswer {
            status: StatusCode::from_u16(self.status).ok()?,
            body: Bytes::from(self.body),
            retry_after: self.retry_after,
        })
    }

    /// The JSON text.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Decodes what [`WireAnswer::encode`] wrote.
    pub fn decode(raw: &[u8]) -> Option<UpstreamAnswer> {
        serde_json::from_slice::<Self>(raw).ok()?.into_answer()
    }
}

/// A leader's finished call, published for followers on other replicas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoneMessage {
    /// The cache key (without the prefix) the call was for.
    pub key: String,
    /// The invalidation generation when the leader started: followers that
    /// began waiting after a later invalidation do not take this answer.
    pub gen: i64,
    /// The answer (upstream, or the BFF's own error as an answer).
    pub answer: WireAnswer,
}

impl DoneMessage {
    /// Decodes a pub/sub payload.
    pub fn decode(raw: &[u8]) -> Option<Arc<Self>> {
        serde_json::from_slice(raw).ok().map(Arc::new)
    }

    /// The JSON text.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// An event as published on the events channel: `{"id","event","data"}`,
/// `data` being the delivery body's JSON text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireEvent {
    /// The SSE id.
    pub id: u64,
    /// The webhook event's name.
    pub event: String,
    /// The SSE data.
    pub data: String,
}

impl WireEvent {
    /// Decodes a pub/sub payload into an event.
    pub fn decode(raw: &[u8]) -> Option<Arc<LiveEvent>> {
        let wire: Self = serde_json::from_slice(raw).ok()?;
        Some(Arc::new(LiveEvent {
            id: wire.id,
            event: wire.event,
            data: wire.data,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip() {
        let answer = UpstreamAnswer {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: Bytes::from_static(b"{\"error\":\"Rate limit exceeded\"}"),
            retry_after: Some(7),
        };
        let text = WireAnswer::from_answer(&answer).encode();
        assert_eq!(WireAnswer::decode(text.as_bytes()), Some(answer));
        assert_eq!(WireAnswer::decode(b"{\"status\":1,\"body\":\"\"}"), None);
        assert_eq!(WireAnswer::decode(b"garbage"), None);
    }
}
