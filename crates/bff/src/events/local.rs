//! The in-process event log: the last N events, and the signatures seen
//! recently (so a sender's retry of a delivery that got through is not
//! published twice).
//!
//! Ids start at the Unix time in milliseconds when the process started, so a
//! browser that reconnects after a restart with an older `Last-Event-ID` is
//! told it missed events instead of waiting for ids that were already used.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::broadcast;
use tokio::time::Instant;

use super::{BusMessage, LiveEvent, Published, Replay};

/// Above this many remembered signatures, expired ones are swept.
const SWEEP_ABOVE: usize = 1024;

/// The in-process log.
#[derive(Debug)]
pub struct LocalLog {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The id of the last event published (`first - 1` before any).
    last: u64,
    events: VecDeque<Arc<LiveEvent>>,
    seen: HashMap<String, Instant>,
}

impl LocalLog {
    /// A log keeping the last `capacity` events.
    pub fn new(capacity: usize) -> Self {
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| u64::try_from(d.as_millis()).unwrap_or(1));
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                last: start,
                events: VecDeque::new(),
                seen: HashMap::new(),
            }),
        }
    }

    /// Numbers, keeps and sends one event. Sending under the lock keeps the
    /// fan-out in id order.
    pub fn publish(
        &self,
        live: &broadcast::Sender<BusMessage>,
        event: &str,
        data: String,
        dedup: &str,
        window: Duration,
    ) -> Published {
        let Ok(mut inner) = self.inner.lock() else {
            return Published::Duplicate;
        };
        let now = Instant::now();
        if inner.seen.get(dedup).is_some_and(|until| now < *until) {
            return Published::Duplicate;
        }
        if inner.seen.len() > SWEEP_ABOVE {
            inner.seen.retain(|_, until| now < *until);
        }
        inner.seen.insert(dedup.to_owned(), now + window);
        inner.last += 1;
        let event = Arc::new(LiveEvent {
            id: inner.last,
            event: event.to_owned(),
            data,
        });
        if inner.events.len() >= self.capacity {
            inner.events.pop_front();
        }
        inner.events.push_back(Arc::clone(&event));
        let _ = live.send(BusMessage::Event(event));
        Published::Event(inner.last)
    }

    /// The kept events after `last`.
    pub fn replay_after(&self, last: Option<u64>) -> Replay {
        let Ok(inner) = self.inner.lock() else {
            return Replay::default();
        };
        let after = last.unwrap_or(0);
        let events: Vec<Arc<LiveEvent>> = inner
            .events
            .iter()
            .filter(|e| e.id > after)
            .cloned()
            .collect();
        let first_kept = inner.events.front().map_or(inner.last + 1, |e| e.id);
        Replay {
            truncated: last.is_some_and(|l| l + 1 < first_kept || l > inner.last),
            events,
            latest: inner.last,
        }
    }

    /// The newest id.
    pub fn latest(&self) -> u64 {
        self.inner.lock().map_or(0, |inner| inner.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn numbers_keeps_the_last_n_and_drops_duplicates() {
        let log = LocalLog::new(3);
        let (live, mut rx) = broadcast::channel(16);
        let base = log.latest();
        for i in 0..5 {
            let published = log.publish(
                &live,
                "response.created",
                format!("{i}"),
                &format!("sig{i}"),
                MINUTE,
            );
            assert_eq!(published, Published::Event(base + 1 + i));
        }
        assert_eq!(
            log.publish(&live, "response.created", "x".into(), "sig4", MINUTE),
            Published::Duplicate
        );
        let mut sent = Vec::new();
        while let Ok(BusMessage::Event(e)) = rx.try_recv() {
            sent.push(e.id - base);
        }
        assert_eq!(sent, vec![1, 2, 3, 4, 5]);

        let replay = log.replay_after(Some(base + 3));
        assert_eq!(
            replay
                .events
                .iter()
                .map(|e| e.id - base)
                .collect::<Vec<_>>(),
            vec![4, 5]
        );
        assert!(!replay.truncated);
        // Events 2 and 3 are gone: asking from 1 says so.
        let replay = log.replay_after(Some(base + 1));
        assert!(replay.truncated);
        assert_eq!(replay.events.len(), 3);
        // An id from the future (another process) is a gap too.
        assert!(log.replay_after(Some(base + 99)).truncated);
        assert!(!log.replay_after(None).truncated);
    }
}
