//! `GET {mount}/events`: the Server-Sent Events stream, framed here.
//!
//! The stream opens with a `retry:` hint ([`retry_frame`]), then sends one SSE
//! event per accepted webhook delivery ([`event_frame`]): `id:` (increasing by
//! one), `event:` the webhook event (`response.created`), `data:` the
//! delivery body as compact JSON. Idle streams get a [`KEEPALIVE`] comment
//! every heartbeat so proxies keep them open.
//!
//! With `Last-Event-ID` ([`last_event_id`]) the events after that id are
//! replayed from the log first. When some are no longer there, or the stream
//! fell behind and the log cannot fill the gap, a [`resync_frame`] is sent:
//! the page should reload what it shows. [`Cursor`] is one stream's position:
//! which events to send, which to skip, when to fill a gap.

use std::time::Duration;

use conferbot::RESYNC_EVENT;

use crate::event_log::LiveEvent;
use crate::request::HeaderLookup;

/// The comment an idle stream gets every heartbeat.
pub const KEEPALIVE: &str = ": keepalive\n\n";

/// The `data:` of the resync notice.
pub const RESYNC_DATA: &str =
    r#"{"reason":"some events were missed and are no longer kept; reload the data"}"#;

/// The headers of the stream: the type, no caching, and no buffering by
/// proxies (nginx and friends pass events on at once).
pub const RESPONSE_HEADERS: [(&str, &str); 3] = [
    ("content-type", "text/event-stream"),
    ("cache-control", "no-cache"),
    ("x-accel-buffering", "no"),
];

/// The reconnection hint: `retry: 3000`.
pub fn retry_frame(retry: Duration) -> String {
    format!("retry: {}\n\n", retry.as_millis())
}

/// One event: `id:`, `event:`, and `data:` (one line per line of `data`).
/// Line breaks in `event` are dropped: a field cannot carry them.
pub fn event_frame(event: &LiveEvent) -> String {
    frame(Some(event.id), &event.event, &event.data)
}

/// The notice that events were missed for good: `event: resync`.
pub fn resync_frame() -> String {
    frame(None, RESYNC_EVENT, RESYNC_DATA)
}

fn frame(id: Option<u64>, event: &str, data: &str) -> String {
    let mut out = String::with_capacity(data.len() + event.len() + 32);
    if let Some(id) = id {
        out.push_str("id: ");
        out.push_str(&id.to_string());
        out.push('\n');
    }
    out.push_str("event: ");
    out.extend(event.chars().filter(|c| !matches!(c, '\r' | '\n')));
    out.push('\n');
    // EventSource ends a line at CR, LF or CRLF: each becomes a `data:` line.
    let normalized;
    let data = if data.contains('\r') {
        normalized = data.replace("\r\n", "\n");
        normalized.as_str()
    } else {
        data
    };
    for line in data.split(['\n', '\r']) {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The `Last-Event-ID` a reconnecting `EventSource` sends, when it is an id.
pub fn last_event_id<H: HeaderLookup + ?Sized>(headers: &H) -> Option<u64> {
    headers
        .first_str("last-event-id")
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// One stream's position in the event sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    /// The id of the last event sent (or the newest when the stream began);
    /// `None` when unknown (the shared log was unreachable at the start).
    last_sent: Option<u64>,
}

impl Cursor {
    /// A stream that starts at the log's newest event `latest` (`None`: the
    /// log could not be read).
    pub fn at_latest(latest: Option<u64>) -> Self {
        Self { last_sent: latest }
    }

    /// A stream resuming after `last_event_id`, given the log's `latest`:
    /// an id from the future is clamped, so the next event is not skipped.
    pub fn resuming(last_event_id: u64, latest: u64) -> Self {
        Self {
            last_sent: Some(last_event_id.min(latest)),
        }
    }

    /// Where the stream stands, for a replay from the log.
    pub fn last_sent(&self) -> Option<u64> {
        self.last_sent
    }

    /// Whether the event `id` should be sent (then it counts as sent), or
    /// skipped as already sent (it came both from the log and the fan-out).
    pub fn offer(&mut self, id: u64) -> bool {
        if self.last_sent.is_some_and(|last| id <= last) {
            return false;
        }
        self.last_sent = Some(id);
        true
    }

    /// Whether events were missed before `id` arrived, so the gap must be
    /// filled from the log first.
    pub fn gap_before(&self, id: u64) -> bool {
        self.last_sent
            .is_some_and(|last| id > last.saturating_add(1))
    }

    /// Whether the stream knows where it is, so a gap can be filled at all.
    pub fn can_fill(&self) -> bool {
        self.last_sent.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::HeaderList;

    #[test]
    fn frames_events_hints_and_notices_as_eventsource_reads_them() {
        let event = LiveEvent {
            id: 42,
            event: "response.created".into(),
            data: r#"{"event":"response.created"}"#.into(),
        };
        assert_eq!(
            event_frame(&event),
            "id: 42\nevent: response.created\ndata: {\"event\":\"response.created\"}\n\n"
        );
        assert_eq!(retry_frame(Duration::from_secs(3)), "retry: 3000\n\n");
        assert!(resync_frame().starts_with("event: resync\ndata: {\"reason\":"));
        let odd = LiveEvent {
            id: 1,
            event: "a\r\nb".into(),
            data: "x\r\ny\rz".into(),
        };
        assert_eq!(
            event_frame(&odd),
            "id: 1\nevent: ab\ndata: x\ndata: y\ndata: z\n\n"
        );
        assert!(KEEPALIVE.starts_with(':') && KEEPALIVE.ends_with("\n\n"));
    }

    #[test]
    fn reads_last_event_id_when_it_is_a_number() {
        let id = |v: &str| last_event_id(&HeaderList::new([("Last-Event-ID", v)]));
        assert_eq!(id(" 17 "), Some(17));
        assert_eq!(id("abc"), None);
        assert_eq!(last_event_id(&HeaderList::default()), None);
    }

    #[test]
    fn a_cursor_sends_each_event_once_and_sees_gaps() {
        let mut cursor = Cursor::resuming(99, 10);
        assert_eq!(cursor.last_sent(), Some(10));
        assert!(!cursor.offer(9));
        assert!(cursor.gap_before(12));
        assert!(!cursor.gap_before(11));
        assert!(cursor.offer(11));
        assert!(!cursor.offer(11));
        let mut blind = Cursor::at_latest(None);
        assert!(!blind.can_fill() && !blind.gap_before(5));
        assert!(blind.offer(5));
        assert!(blind.can_fill());
    }
}
