//! The Server-Sent Events path end to end: the client's parser
//! (`conferbot::SseParser`, which the wasm client feeds with the stream's
//! bytes), the BFF's framing (`conferbot_policy::sse`), `Last-Event-ID`, a
//! stream's cursor and the event log's replay.
//!
//! The input is read twice:
//! - as a raw stream: parsed whole and in chunks cut where the input says,
//!   the events, the last event id and `retry:` must be the same; events
//!   always have a name; the id sent back as `Last-Event-ID` is read by the
//!   BFF as a number exactly when it is one;
//! - as structured data (`arbitrary`): events framed by the BFF (with `retry:`
//!   hints, keepalives and resync notices between them), parsed by the
//!   client, must come back as they were framed (line breaks as `\n`); a log
//!   and a cursor fed ids in any order send each event once, in order.

#![no_main]

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use conferbot::{SseEvent, SseParser, RESYNC_EVENT};
use conferbot_policy::event_log::{EventLog, LiveEvent, Published, MAX_START};
use conferbot_policy::sse::{self, Cursor};
use conferbot_policy::HeaderList;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    raw_stream(data);
    let mut u = Unstructured::new(data);
    if let Ok(frames) = Frames::arbitrary(&mut u) {
        framed(&frames);
    }
    if let Ok(log) = LogRun::arbitrary(&mut u) {
        logged(&log);
    }
});

fn drain(parser: &mut SseParser) -> Vec<SseEvent> {
    std::iter::from_fn(|| parser.next_event()).collect()
}

fn raw_stream(data: &[u8]) {
    let mut whole = SseParser::new();
    whole.feed(data);
    let events = drain(&mut whole);
    // Chunk sizes from the input's own bytes: every split is some chunking.
    let mut chunked = SseParser::new();
    let mut rest = data;
    let mut sizes = data.iter().cycle().map(|b| usize::from(b % 13) + 1);
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(sizes.next().unwrap_or(1).min(rest.len()));
        chunked.feed(chunk);
        rest = tail;
    }
    assert_eq!(drain(&mut chunked), events, "chunking changed the events");
    assert_eq!(chunked.last_event_id(), whole.last_event_id());
    assert_eq!(chunked.retry_ms(), whole.retry_ms());
    for event in &events {
        assert!(!event.event.is_empty(), "an event always has a name");
        assert!(!event.id.contains('\0'));
    }
    // What the client sends back is what the BFF reads, when it is an id.
    let last = whole.last_event_id().to_owned();
    let headers = HeaderList::new([("Last-Event-ID", last.clone())]);
    assert_eq!(
        sse::last_event_id(&headers),
        last.trim().parse::<u64>().ok()
    );
    // A new connection keeps the id and the delay, and drops what was half-read.
    let retry = whole.retry_ms();
    whole.reconnected();
    assert_eq!(
        (whole.last_event_id(), whole.retry_ms()),
        (last.as_str(), retry)
    );
    whole.feed(b"\n\n");
    assert_eq!(drain(&mut whole), []);
}

/// A stream the BFF writes.
#[derive(Debug, Arbitrary)]
struct Frames {
    items: Vec<Item>,
    /// Where the bytes are cut before the client reads them.
    cuts: Vec<u16>,
}

#[derive(Debug, Arbitrary)]
enum Item {
    Event {
        id: u64,
        event: String,
        data: String,
    },
    Retry(u32),
    Keepalive,
    Resync,
}

fn framed(frames: &Frames) {
    let mut stream = String::new();
    let mut expected = Vec::new();
    let mut last_id = String::new();
    let mut retry = None;
    for item in &frames.items {
        match item {
            Item::Event { id, event, data } => {
                stream.push_str(&sse::event_frame(&LiveEvent {
                    id: *id,
                    event: event.clone(),
                    data: data.clone(),
                }));
                last_id = id.to_string();
                let name: String = event
                    .chars()
                    .filter(|c| !matches!(c, '\r' | '\n'))
                    .collect();
                expected.push(SseEvent {
                    id: last_id.clone(),
                    event: if name.is_empty() {
                        "message".to_owned()
                    } else {
                        name
                    },
                    data: data.replace("\r\n", "\n").replace('\r', "\n"),
                });
            }
            Item::Retry(ms) => {
                stream.push_str(&sse::retry_frame(Duration::from_millis(u64::from(*ms))));
                retry = Some(u64::from(*ms));
            }
            Item::Keepalive => stream.push_str(sse::KEEPALIVE),
            Item::Resync => {
                stream.push_str(&sse::resync_frame());
                expected.push(SseEvent {
                    id: last_id.clone(),
                    event: RESYNC_EVENT.to_owned(),
                    data: sse::RESYNC_DATA.to_owned(),
                });
            }
        }
    }
    let bytes = stream.as_bytes();
    let mut parser = SseParser::new();
    let mut at = 0;
    for cut in &frames.cuts {
        let end = (at + usize::from(*cut)).min(bytes.len());
        parser.feed(&bytes[at..end]);
        at = end;
    }
    parser.feed(&bytes[at..]);
    assert_eq!(drain(&mut parser), expected, "framed {stream:?}");
    assert_eq!(parser.last_event_id(), last_id);
    assert_eq!(parser.retry_ms(), retry);
}

/// Deliveries published to a log, and a stream that resumes from it.
#[derive(Debug, Arbitrary)]
struct LogRun {
    capacity: u8,
    start: u64,
    deliveries: Vec<(u8, u16)>,
    last_event_id: Option<u64>,
    fan_out: Vec<u8>,
}

fn logged(run: &LogRun) {
    let window = Duration::from_secs(600);
    let mut log = EventLog::new(usize::from(run.capacity), run.start);
    let mut published = Vec::new();
    for (dedup, at) in &run.deliveries {
        let now = u64::from(*at) * 1_000;
        match log.publish(
            "response.created",
            "{}".to_owned(),
            &dedup.to_string(),
            window,
            now,
        ) {
            (Published::Event(id), Some(event)) => {
                assert_eq!(event.id, id);
                assert!(
                    published
                        .last()
                        .is_none_or(|last: &u64| last.checked_add(1) == Some(id)),
                    "ids step by one"
                );
                published.push(id);
            }
            (Published::Duplicate, None) => {}
            other => panic!("published {other:?}"),
        }
    }
    assert_eq!(
        log.latest(),
        published
            .last()
            .copied()
            .unwrap_or(run.start.min(MAX_START))
    );
    let replay = log.replay_after(run.last_event_id);
    assert!(replay
        .events
        .windows(2)
        .all(|w| w[0].id.checked_add(1) == Some(w[1].id)));
    assert!(replay.events.len() <= usize::from(run.capacity).max(1));
    // A stream resuming there sends every event after it once, in order,
    // whether it comes from the replay or again from the fan-out.
    let mut cursor = match run.last_event_id {
        Some(last) => Cursor::resuming(last, log.latest()),
        None => Cursor::at_latest(Some(log.latest())),
    };
    let mut sent: Vec<u64> = Vec::new();
    let offered = replay
        .events
        .iter()
        .map(|e| e.id)
        .chain(run.fan_out.iter().map(|i| {
            published
                .get(usize::from(*i) % published.len().max(1))
                .copied()
                .unwrap_or(0)
        }));
    for id in offered {
        let before = cursor.last_sent();
        let gap = cursor.gap_before(id);
        assert_eq!(gap, before.is_some_and(|last| id > last.saturating_add(1)));
        if cursor.offer(id) {
            assert!(before.is_none_or(|last| id > last));
            sent.push(id);
        } else {
            assert!(before.is_some_and(|last| id <= last));
        }
        assert!(cursor.can_fill());
    }
    assert!(
        sent.windows(2).all(|w| w[0] < w[1]),
        "each event once, in order"
    );
}
