//! Live events: accepted webhook deliveries, numbered and kept in a bounded
//! log, for fan-out to browsers over Server-Sent Events.
//!
//! An event's id increases by one per event, so a stream sees a gap when it
//! missed some (a lagging consumer, a lost pub/sub connection) and fills it
//! from the log; a browser that reconnects with `Last-Event-ID` gets what it
//! missed the same way. [`EventLog`] is the in-process log; a shared log
//! (a capped Redis stream, `publish.lua`) numbers and keeps events the same
//! way, and both decide what a replay lost by [`replay_truncated`].

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Above this many remembered deliveries, expired ones are swept.
pub const SWEEP_ABOVE: usize = 1024;

/// The highest first id a log starts after: half of JavaScript's largest
/// exact integer (`2^53 - 1`), so ids stay exact as JS numbers (the server
/// half hands them to JS) and can never run out. Unix milliseconds, what
/// servers start at, stay far below it until the year 144,683.
pub const MAX_START: u64 = (1 << 52) - 1;

/// One event, as browsers get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveEvent {
    /// The SSE `id:`, one more than the previous event's.
    pub id: u64,
    /// The SSE `event:`, the webhook event's name (`response.created`).
    pub event: String,
    /// The SSE `data:`, the delivery body as compact JSON.
    pub data: String,
}

/// What event streams hear from the log's fan-out.
#[derive(Debug, Clone)]
pub enum BusMessage {
    /// A new event.
    Event(Arc<LiveEvent>),
    /// Events may have been missed (the shared log's connection was back):
    /// each stream fills its gap from the log.
    Resync,
}

/// Events after some id, from the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replay {
    /// The events, oldest first.
    pub events: Vec<Arc<LiveEvent>>,
    /// Whether some of the events asked for are no longer in the log.
    pub truncated: bool,
    /// The newest id there is (0: none yet).
    pub latest: u64,
}

/// What publishing came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Logged and fanned out with this id.
    Event(u64),
    /// The same delivery (same signature) was published already: a sender's
    /// retry whose first attempt got through. Not published again.
    Duplicate,
}

/// The shared log is unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the shared event log is unreachable")]
pub struct LogUnavailable;

/// Whether a replay after `last` missed events: the oldest kept is
/// `first_kept` (`latest + 1` when the log is empty) and the newest `latest`.
/// `last == 0` means the client saw an empty shared log, so it missed nothing
/// before the first event; an id from the future (another log) is a gap.
pub fn replay_truncated(last: Option<u64>, first_kept: u64, latest: u64) -> bool {
    last.is_some_and(|last| (last > 0 && last.saturating_add(1) < first_kept) || last > latest)
}

/// The in-process log: the last `capacity` events, and the deliveries seen
/// recently (so a sender's retry is not published twice). Times are the
/// caller's milliseconds.
#[derive(Debug, Clone)]
pub struct EventLog {
    capacity: usize,
    /// The id of the last event published (`first - 1` before any).
    last: u64,
    events: VecDeque<Arc<LiveEvent>>,
    /// Dedup identity → until when it is remembered.
    seen: HashMap<String, u64>,
}

impl EventLog {
    /// A log keeping the last `capacity` events, whose first id is
    /// `start + 1` (`start` at most [`MAX_START`]). Servers start at the Unix
    /// time in milliseconds, so that a browser reconnecting after a restart
    /// with an older `Last-Event-ID` is told it missed events instead of
    /// waiting for ids already used.
    pub fn new(capacity: usize, start: u64) -> Self {
        Self {
            capacity: capacity.max(1),
            last: start.min(MAX_START),
            events: VecDeque::new(),
            seen: HashMap::new(),
        }
    }

    /// Numbers and keeps one event at `now`, unless `dedup` was seen within
    /// `window`; the event, when published, is for the fan-out.
    pub fn publish(
        &mut self,
        event: &str,
        data: String,
        dedup: &str,
        window: Duration,
        now: u64,
    ) -> (Published, Option<Arc<LiveEvent>>) {
        if self.seen.get(dedup).is_some_and(|until| now < *until) {
            return (Published::Duplicate, None);
        }
        if self.seen.len() > SWEEP_ABOVE {
            self.seen.retain(|_, until| now < *until);
        }
        let window = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        self.seen
            .insert(dedup.to_owned(), now.saturating_add(window));
        self.last = self.last.saturating_add(1);
        let event = Arc::new(LiveEvent {
            id: self.last,
            event: event.to_owned(),
            data,
        });
        if self.events.len() >= self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(Arc::clone(&event));
        (Published::Event(self.last), Some(event))
    }

    /// The kept events after `last` (all of them when `None`).
    pub fn replay_after(&self, last: Option<u64>) -> Replay {
        let after = last.unwrap_or(0);
        let first_kept = self
            .events
            .front()
            .map_or(self.last.saturating_add(1), |e| e.id);
        Replay {
            events: self
                .events
                .iter()
                .filter(|e| e.id > after)
                .cloned()
                .collect(),
            truncated: replay_truncated(last, first_kept, self.last),
            latest: self.last,
        }
    }

    /// The newest id.
    pub fn latest(&self) -> u64 {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);
    const BASE: u64 = 1_700_000_000_000;

    #[test]
    fn numbers_keeps_the_last_n_and_drops_duplicates() {
        let mut log = EventLog::new(3, BASE);
        for i in 0..5 {
            let (published, event) = log.publish(
                "response.created",
                format!("{i}"),
                &format!("sig{i}"),
                MINUTE,
                0,
            );
            assert_eq!(published, Published::Event(BASE + 1 + i));
            assert_eq!(event.unwrap().id, BASE + 1 + i);
        }
        let (again, event) = log.publish("response.created", "x".into(), "sig4", MINUTE, 59_999);
        assert_eq!((again, event), (Published::Duplicate, None));
        // Past the window, the same identity is a new delivery.
        let (later, _) = log.publish("response.created", "x".into(), "sig4", MINUTE, 60_000);
        assert_eq!(later, Published::Event(BASE + 6));

        let replay = log.replay_after(Some(BASE + 4));
        let ids: Vec<u64> = replay.events.iter().map(|e| e.id - BASE).collect();
        assert_eq!(ids, vec![5, 6]);
        assert!(!replay.truncated);
        // Events 2 and 3 are gone: asking from 1 says so.
        let replay = log.replay_after(Some(BASE + 1));
        assert!(replay.truncated);
        assert_eq!(replay.events.len(), 3);
        // An id from the future (another process) is a gap too.
        assert!(log.replay_after(Some(BASE + 99)).truncated);
        assert!(!log.replay_after(None).truncated);
        assert_eq!(log.latest(), BASE + 6);
    }

    #[test]
    fn replays_of_an_empty_log_lose_nothing_unless_ids_went_missing() {
        assert!(!replay_truncated(None, 11, 10));
        assert!(!replay_truncated(Some(10), 11, 10));
        assert!(!replay_truncated(Some(0), 500, 510), "saw an empty log");
        assert!(replay_truncated(Some(3), 5, 10));
        assert!(replay_truncated(Some(11), 11, 10));
        let empty = EventLog::new(10, BASE);
        assert_eq!(
            empty.replay_after(Some(BASE)),
            Replay {
                latest: BASE,
                ..Replay::default()
            }
        );
    }

    /// Found by `cargo xtask fuzz` (target `sse_stream`): a log started at
    /// `u64::MAX` (the server half's start is a JS number) overflowed on its
    /// first replay and its first event. Now the start is capped, and ids
    /// still step by one.
    #[test]
    fn a_log_started_at_the_largest_id_still_numbers_by_one() {
        let mut log = EventLog::new(2, u64::MAX);
        assert_eq!(log.latest(), MAX_START);
        assert!(log.replay_after(Some(1)).events.is_empty());
        let (first, _) = log.publish("response.created", "{}".into(), "a", MINUTE, 0);
        let (second, _) = log.publish("response.created", "{}".into(), "b", MINUTE, 0);
        assert_eq!(
            (first, second),
            (
                Published::Event(MAX_START + 1),
                Published::Event(MAX_START + 2)
            )
        );
        let ids: Vec<u64> = log.replay_after(None).events.iter().map(|e| e.id).collect();
        assert_eq!(ids, [MAX_START + 1, MAX_START + 2]);
    }
}
