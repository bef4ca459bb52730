//! An incremental Server-Sent Events parser, as the HTML standard's
//! `EventSource` reads a `text/event-stream`.
//!
//! Bytes go in as they arrive, split anywhere (inside a line, inside a UTF-8
//! character, between `\r` and `\n`); complete events come out. Lines end
//! with `\n`, `\r\n` or `\r`; `data:` lines join with `\n`; `:` lines are
//! comments (keepalives); `retry:` sets the reconnection delay; unknown
//! fields are ignored. The last event id persists from event to event and
//! across reconnections (it is what `Last-Event-ID` sends), until the server
//! sets another.

use std::collections::VecDeque;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The last event id when it was dispatched (`""` if the server never set one).
    pub id: String,
    /// The `event:` field, `"message"` when the event had none.
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// The parser's state: a partial line, the event being built, the id and
/// the reconnection delay the server asked for.
#[derive(Debug, Clone, Default)]
pub struct SseParser {
    /// Bytes of a line whose end has not arrived yet.
    line: Vec<u8>,
    /// The last byte fed was `\r`: a `\n` first in the next chunk ends nothing.
    after_cr: bool,
    /// Whether the start of the stream (where a BOM may be) is behind us.
    started: bool,
    data: String,
    event: String,
    id_buffer: String,
    last_event_id: String,
    retry_ms: Option<u64>,
    ready: VecDeque<SseEvent>,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `chunk`; the events it completes wait in [`Self::next_event`].
    pub fn feed(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if let [b'\n', tail @ ..] = rest {
                rest = tail;
            }
        }
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (head, tail) = rest.split_at(end);
            self.line.extend_from_slice(head);
            let line = std::mem::take(&mut self.line);
            self.line_ended(&line);
            rest = match tail {
                [b'\r', b'\n', after @ ..] => after,
                [b'\r'] => {
                    self.after_cr = true;
                    &[]
                }
                [_, after @ ..] => after,
                [] => &[],
            };
        }
        self.line.extend_from_slice(rest);
    }

    /// Reads `chunk` of text (the same as its UTF-8 bytes).
    pub fn feed_str(&mut self, chunk: &str) {
        self.feed(chunk.as_bytes());
    }

    /// The next complete event, oldest first.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        self.ready.pop_front()
    }

    /// The id to send as `Last-Event-ID` when reconnecting (`""`: none).
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection delay the server asked for with `retry:`, in ms.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// A new connection begins: a half-received line or event of the old one
    /// is dropped; the last event id and the retry delay are kept.
    pub fn reconnected(&mut self) {
        self.line.clear();
        self.after_cr = false;
        self.started = false;
        self.data.clear();
        self.event.clear();
        self.id_buffer.clone_from(&self.last_event_id);
    }

    fn line_ended(&mut self, raw: &[u8]) {
        let mut raw = raw;
        if !self.started {
            self.started = true;
            if let [0xEF, 0xBB, 0xBF, tail @ ..] = raw {
                raw = tail;
            }
        }
        if raw.is_empty() {
            self.dispatch();
            return;
        }
        let line = String::from_utf8_lossy(raw);
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            // A comment, like the BFF's `: keepalive`.
            "" => {}
            "event" => value.clone_into(&mut self.event),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => value.clone_into(&mut self.id_buffer),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                // Too many digits to be a delay anyone means: kept at the largest.
                self.retry_ms = Some(value.parse().unwrap_or(u64::MAX));
            }
            _ => {}
        }
    }

    fn dispatch(&mut self) {
        self.last_event_id.clone_from(&self.id_buffer);
        if self.data.is_empty() {
            self.event.clear();
            return;
        }
        if self.data.ends_with('\n') {
            self.data.pop();
        }
        let event = match std::mem::take(&mut self.event) {
            name if name.is_empty() => "message".to_owned(),
            name => name,
        };
        self.ready.push_back(SseEvent {
            id: self.last_event_id.clone(),
            event,
            data: std::mem::take(&mut self.data),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, event: &str, data: &str) -> SseEvent {
        SseEvent {
            id: id.into(),
            event: event.into(),
            data: data.into(),
        }
    }

    fn drain(parser: &mut SseParser) -> Vec<SseEvent> {
        std::iter::from_fn(|| parser.next_event()).collect()
    }

    /// Feeds `stream` whole, byte by byte, and split at every position; all
    /// must give the same events (and the same id and retry after).
    fn parse_every_way(stream: &[u8]) -> (Vec<SseEvent>, String, Option<u64>) {
        let mut whole = SseParser::new();
        whole.feed(stream);
        let expected = (
            drain(&mut whole),
            whole.last_event_id().to_owned(),
            whole.retry_ms(),
        );
        let mut bytewise = SseParser::new();
        for byte in stream {
            bytewise.feed(std::slice::from_ref(byte));
        }
        let got = (
            drain(&mut bytewise),
            bytewise.last_event_id().to_owned(),
            bytewise.retry_ms(),
        );
        assert_eq!(got, expected, "byte by byte");
        for at in 0..=stream.len() {
            let (a, b) = stream.split_at(at);
            let mut split = SseParser::new();
            split.feed(a);
            split.feed(&[]);
            split.feed(b);
            let got = (
                drain(&mut split),
                split.last_event_id().to_owned(),
                split.retry_ms(),
            );
            assert_eq!(got, expected, "split at {at}");
        }
        expected
    }

    #[test]
    fn reads_the_bffs_stream() {
        let stream = b"retry: 3000\n\n: keepalive\n\nid: 1\nevent: response.created\ndata: {\"event\":\"response.created\",\"data\":{\"id\":\"x\"}}\n\n: keepalive\n\nid: 2\nevent: conversation.started\ndata: {}\n\n";
        let (events, last, retry) = parse_every_way(stream);
        assert_eq!(
            events,
            [
                event(
                    "1",
                    "response.created",
                    r#"{"event":"response.created","data":{"id":"x"}}"#
                ),
                event("2", "conversation.started", "{}"),
            ]
        );
        assert_eq!((last.as_str(), retry), ("2", Some(3000)));
    }

    #[test]
    fn every_line_ending_and_multi_line_data() {
        for stream in [
            &b"data: a\ndata: b\ndata\ndata:  c\n\n"[..],
            b"data: a\r\ndata: b\r\ndata\r\ndata:  c\r\n\r\n",
            b"data: a\rdata: b\rdata\rdata:  c\r\r",
            b"data: a\r\ndata: b\rdata\ndata:  c\r\n\r",
        ] {
            let (events, _, _) = parse_every_way(stream);
            assert_eq!(events, [event("", "message", "a\nb\n\n c")], "{stream:?}");
        }
    }

    #[test]
    fn the_last_event_id_persists_until_set_again() {
        let stream = b"id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 9\n\nid: x\0y\ndata: d\n\n";
        let (events, last, _) = parse_every_way(stream);
        assert_eq!(
            events,
            [
                event("7", "message", "a"),
                event("7", "message", "b"),
                event("", "message", "c"),
                event("9", "message", "d")
            ]
        );
        assert_eq!(
            last, "9",
            "an id with NUL is ignored; an id-only block still sets it"
        );
    }

    #[test]
    fn ignores_comments_unknown_fields_empty_events_and_bad_retries() {
        let stream = b":comment\nfoo: bar\nevent: x\n\nretry: soon\nretry: -5\nretry\ndata:no space\nDATA: shouted\n\n";
        let (events, _, retry) = parse_every_way(stream);
        assert_eq!(
            events,
            [event("", "message", "no space")],
            "an event without data is dropped, with its name"
        );
        assert_eq!(retry, None);
        let (_, _, retry) = parse_every_way(b"retry: 99999999999999999999999\n\n");
        assert_eq!(retry, Some(u64::MAX));
    }

    #[test]
    fn utf8_split_inside_a_character_and_a_leading_bom() {
        let stream = "\u{feff}data: héllo 😀\n\n".as_bytes();
        let (events, _, _) = parse_every_way(stream);
        assert_eq!(events, [event("", "message", "héllo 😀")]);
        let (events, _, _) = parse_every_way(b"data: \xff!\n\n");
        assert_eq!(events, [event("", "message", "\u{fffd}!")]);
    }

    #[test]
    fn an_unfinished_event_waits_and_a_reconnection_drops_it() {
        let mut parser = SseParser::new();
        parser.feed_str("id: 4\ndata: done\n\nid: 5\ndata: half");
        assert_eq!(drain(&mut parser), [event("4", "message", "done")]);
        parser.feed_str("\r");
        assert_eq!(drain(&mut parser), []);
        parser.reconnected();
        assert_eq!(parser.last_event_id(), "4", "id 5 never completed an event");
        parser.feed_str("\ndata: fresh\n\n");
        assert_eq!(
            drain(&mut parser),
            [event("4", "message", "fresh")],
            "the new stream's first \\n is a line of its own"
        );
    }
}
