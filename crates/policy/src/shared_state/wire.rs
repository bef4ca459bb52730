//! How answers and events are written into Redis: small JSON documents, so
//! that `redis-cli` shows something a person can read.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::event_log::LiveEvent;
use crate::quota::{Learned, QuotaBook};
use crate::quota_headers::MinuteView;

/// An upstream answer as cached, and as a leader hands it to followers:
/// `{"status", "retryAfter", "body"}`.
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
    /// An answer with a `body` that is JSON (so UTF-8).
    pub fn new(status: u16, retry_after: Option<u64>, body: &[u8]) -> Self {
        Self {
            status,
            retry_after,
            body: String::from_utf8_lossy(body).into_owned(),
        }
    }

    /// Whether the status is one (100..=999); others came from elsewhere.
    pub fn is_valid(&self) -> bool {
        (100..1000).contains(&self.status)
    }

    /// The JSON text.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Decodes what [`WireAnswer::encode`] wrote; `None` for anything else.
    pub fn decode(raw: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Self>(raw)
            .ok()
            .filter(Self::is_valid)
    }
}

/// A leader's finished call, published for followers on other replicas:
/// `{"key", "gen", "answer"}`.
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

/// An event as `publish.lua` announces it on the events channel:
/// `{"id","event","data"}`, `data` being the delivery body's JSON text.
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

/// What `quota.lua` answers: the shared month and the window's state, on
/// Redis's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedQuota {
    /// The month's book (its times on Redis's clock).
    pub book: QuotaBook,
    /// Sends within the window's span.
    pub sends: u64,
    /// The oldest of them, ms (0: none).
    pub oldest_send_ms: u64,
    /// Waiters in the window's queue.
    pub waiters: u64,
    /// What is left of an upstream pause, ms.
    pub pause_ms: u64,
    /// Redis's time, ms.
    pub now_ms: u64,
    /// Answers the shared cache holds (index members: an over-count, as
    /// members outlive their answers for a while).
    pub held: u64,
}

/// The raw reply of `quota.lua`.
pub type QuotaReply = (u64, String, u64, u64, i64, u64, u64, u64, u64, u64, u64);

impl SharedQuota {
    /// Decodes `quota.lua`'s reply (a `learned` that does not decode is
    /// unknown: it will be learned again).
    pub fn from_reply(reply: QuotaReply) -> Self {
        let (calls, learned, calls_at, refused, offset, sends, oldest, waiters, pause, now, held) =
            reply;
        Self {
            book: QuotaBook {
                learned: serde_json::from_str::<Learned>(&learned).ok(),
                calls_at_learn: calls_at,
                calls,
                refused_until: (refused > 0).then_some(refused),
                clock_offset_ms: offset,
            },
            sends,
            oldest_send_ms: oldest,
            waiters,
            pause_ms: pause,
            now_ms: now,
            held,
        }
    }

    /// The window as the quota headers say it, for a window of `max` per
    /// `span_ms` (the same arithmetic as [`crate::window::Window::room`]).
    pub fn minute(&self, max: u32, span_ms: u64) -> MinuteView {
        let taken = self.sends.saturating_add(self.waiters);
        let free = u64::from(max).saturating_sub(taken);
        let (remaining, reset_ms) = if self.pause_ms > 0 {
            (0, self.pause_ms)
        } else if free > 0 {
            (free, 0)
        } else {
            let frees = self.oldest_send_ms.saturating_add(span_ms);
            (0, frees.saturating_sub(self.now_ms))
        };
        MinuteView {
            limit: max,
            remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
            reset_ms,
        }
    }
}

/// The learned month as `quota.lua` keeps it.
pub fn encode_learned(learned: &Learned) -> String {
    serde_json::to_string(learned).unwrap_or_default()
}

/// A stream entry `ID-0 [event E data D]` (as `XRANGE` returns it) as an event.
pub fn decode_entry((id, fields): (String, Vec<String>)) -> Option<Arc<LiveEvent>> {
    let id = id.split('-').next()?.parse().ok()?;
    let mut event = None;
    let mut data = None;
    for pair in fields.chunks(2) {
        match pair {
            [name, value] if name == "event" => event = Some(value.clone()),
            [name, value] if name == "data" => data = Some(value.clone()),
            _ => {}
        }
    }
    Some(Arc::new(LiveEvent {
        id,
        event: event?,
        data: data?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip() {
        let answer = WireAnswer::new(429, Some(7), b"{\"error\":\"Rate limit exceeded\"}");
        let text = answer.encode();
        assert_eq!(
            text,
            r#"{"status":429,"retryAfter":7,"body":"{\"error\":\"Rate limit exceeded\"}"}"#
        );
        assert_eq!(WireAnswer::decode(text.as_bytes()), Some(answer));
        assert_eq!(WireAnswer::decode(b"{\"status\":1,\"body\":\"\"}"), None);
        assert_eq!(WireAnswer::decode(b"garbage"), None);
    }

    #[test]
    fn events_and_done_messages_decode() {
        let event =
            WireEvent::decode(br#"{"id":5,"event":"response.created","data":"{}"}"#).unwrap();
        assert_eq!((event.id, event.event.as_str()), (5, "response.created"));
        let done = DoneMessage {
            key: "getUsage::".into(),
            gen: 3,
            answer: WireAnswer::new(200, None, b"{}"),
        };
        assert_eq!(
            DoneMessage::decode(done.encode().as_bytes()).as_deref(),
            Some(&done)
        );
        assert!(DoneMessage::decode(b"[]").is_none());
    }

    #[test]
    fn the_shared_quota_decodes_and_says_the_window() {
        let learned = encode_learned(&Learned {
            month: "2025-01".into(),
            limit: conferbot::Limit::Calls(10_000),
            used: 42,
        });
        assert_eq!(learned, r#"{"month":"2025-01","limit":10000,"used":42}"#);
        let shared = SharedQuota::from_reply((50, learned, 40, 0, -3, 60, 1_000, 0, 0, 30_000, 7));
        assert_eq!(shared.held, 7);
        assert_eq!(shared.book.month(30_000).map(|m| m.used), Some(52));
        assert_eq!(shared.book.refused_until, None);
        let minute = shared.minute(60, 61_200);
        assert_eq!((minute.remaining, minute.reset_ms), (0, 32_200));
        let unknown = SharedQuota::from_reply((0, String::new(), 0, 9, 0, 3, 0, 1, 500, 0, 0));
        assert_eq!(unknown.book.learned, None);
        assert_eq!(unknown.book.refused_until, Some(9));
        assert_eq!(unknown.minute(60, 61_200).reset_ms, 500);
    }

    #[test]
    fn stream_entries_decode_into_events() {
        let entry = (
            "42-0".to_owned(),
            vec![
                "event".into(),
                "response.created".into(),
                "data".into(),
                "{}".into(),
            ],
        );
        let event = decode_entry(entry).unwrap();
        assert_eq!(
            (event.id, event.event.as_str(), event.data.as_str()),
            (42, "response.created", "{}")
        );
        assert!(decode_entry(("x-0".into(), vec![])).is_none());
        assert!(decode_entry(("1-0".into(), vec!["event".into()])).is_none());
    }
}
