//! The in-process event log: the policy's [`EventLog`] under a mutex, its
//! events sent to the fan-out as they are numbered.
//!
//! Ids start at the Unix time in milliseconds when the process started, so a
//! browser that reconnects after a restart with an older `Last-Event-ID` is
//! told it missed events instead of waiting for ids that were already used.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use conferbot_policy::event_log::{BusMessage, EventLog, Published, Replay};
use tokio::sync::broadcast;
use tokio::time::Instant;

/// The in-process log.
#[derive(Debug)]
pub(crate) struct LocalLog {
    /// Time zero of the dedup windows' milliseconds.
    epoch: Instant,
    log: Mutex<EventLog>,
}

impl LocalLog {
    /// A log keeping the last `capacity` events.
    pub(crate) fn new(capacity: usize) -> Self {
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| u64::try_from(d.as_millis()).unwrap_or(1));
        Self {
            epoch: Instant::now(),
            log: Mutex::new(EventLog::new(capacity, start)),
        }
    }

    /// Numbers, keeps and sends one event, running `apply` first when the
    /// delivery is new: under the log's lock, so that a delivery is applied
    /// exactly once however many retries arrive at once, and before any
    /// stream hears of it (a page that re-reads on the event gets the
    /// changed answer). Sending under the lock keeps the fan-out in id order.
    pub(crate) fn publish(
        &self,
        live: &broadcast::Sender<BusMessage>,
        event: &str,
        data: String,
        dedup: &str,
        window: Duration,
        apply: impl FnOnce(),
    ) -> Published {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut log = self.lock();
        let (published, event) = log.publish(event, data, dedup, window, now);
        if let Some(event) = event {
            apply();
            let _ = live.send(BusMessage::Event(event));
        }
        published
    }

    /// The kept events after `last`.
    pub(crate) fn replay_after(&self, last: Option<u64>) -> Replay {
        self.lock().replay_after(last)
    }

    /// The newest id.
    pub(crate) fn latest(&self) -> u64 {
        self.lock().latest()
    }

    /// The log. It never panics, so a poisoned lock still holds a consistent log.
    fn lock(&self) -> MutexGuard<'_, EventLog> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn numbers_sends_in_order_and_drops_duplicates() {
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
                || {},
            );
            assert_eq!(published, Published::Event(base + 1 + i));
        }
        let mut applied = false;
        assert_eq!(
            log.publish(
                &live,
                "response.created",
                "x".into(),
                "sig4",
                MINUTE,
                || applied = true
            ),
            Published::Duplicate
        );
        assert!(!applied, "a duplicate is not applied again");
        let mut sent = Vec::new();
        while let Ok(BusMessage::Event(e)) = rx.try_recv() {
            sent.push(e.id - base);
        }
        assert_eq!(sent, vec![1, 2, 3, 4, 5]);
        let replay = log.replay_after(Some(base + 3));
        assert_eq!(replay.events.len(), 2);
        assert!(log.replay_after(Some(base + 1)).truncated);
    }
}
